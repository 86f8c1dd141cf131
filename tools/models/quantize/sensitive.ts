// The layers kept in float unless the caller names others: in every graph that holds weight ops, the
// first (it sees the raw input: STFT basis, first image convolution) and the last (the classifier or
// prediction head). Recurrent cells (LSTM) are never quantized by any mode.

import { allGraphs, type Model } from './onnx-io.ts';
import { weightOps } from './weights.ts';

export function defaultKeepFloat(model: Model): string[] {
  const kept: string[] = [];
  for (const graph of allGraphs(model.graph)) {
    const weighted = graph.node.filter((n) => weightOps.has(n.opType) && !n.domain);
    if (weighted.length === 0) continue;
    kept.push(weighted[0]!.name);
    if (weighted.length > 1) kept.push(weighted.at(-1)!.name);
  }
  return kept;
}
