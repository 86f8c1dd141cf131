// PaddleOCR's exports (opset 9/11) and silero-vad's spox export hold their weights in `Constant` nodes,
// which no quantizer can see as weights. This pass turns every tensor-valued Constant into an
// initializer of the graph it sits in (subgraphs included: silero-vad's weights live inside `If`
// branches, and ONNX lets a subgraph carry its own initializers).

import { allGraphs, type Model } from './onnx-io.ts';

/** Returns how many Constant nodes became initializers. */
export function constantsToInitializers(model: Model): number {
  let converted = 0;
  for (const graph of allGraphs(model.graph)) {
    graph.node = graph.node.filter((node) => {
      if (node.opType !== 'Constant' || node.domain) return true;
      const value = node.attribute.length === 1 && node.attribute[0]!.name === 'value' ? node.attribute[0]!.t : undefined;
      if (!value) return true;
      value.name = node.output[0]!;
      graph.initializer.push(value);
      converted++;
      return false;
    });
  }
  return converted;
}
