// Finding the weights of Conv / ConvTranspose / MatMul / Gemm nodes: float initializers large enough
// to be worth quantizing, each with the axis of its output channels.

import { consumers } from './graph-index.ts';
import { DataType, dimsOf, elementCount, intAttribute, type Graph, type Node, type Tensor } from './onnx-io.ts';

export const weightOps = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

export interface Weight {
  tensor: Tensor;
  dims: number[];
  /** Axis of the output channels (per-channel scales), undefined for one scale per tensor. */
  axis: number | undefined;
  nodes: Node[];
}

function channelAxis(node: Node, dims: readonly number[]): number | undefined {
  switch (node.opType) {
    case 'Conv':
      return 0;
    case 'ConvTranspose':
      // W is [C_in, C_out / group, k...]: per output channel only when not grouped.
      return (intAttribute(node, 'group') ?? 1) === 1 ? 1 : undefined;
    case 'MatMul':
      return dims.length === 2 ? 1 : undefined;
    case 'Gemm':
      return (intAttribute(node, 'transB') ?? 0) === 1 ? 0 : 1;
    default:
      return undefined;
  }
}

/**
 * The weights of `graph` that only feed the weight input (slot 1) of weight ops not named in
 * `keepFloat`, with at least `minElements` elements.
 */
export function findWeights(
  graph: Graph,
  options: { minElements: number; keepFloat: ReadonlySet<string>; ops?: ReadonlySet<string> },
): Weight[] {
  const ops = options.ops ?? weightOps;
  const uses = consumers(graph);
  const found: Weight[] = [];
  for (const tensor of graph.initializer) {
    if (tensor.dataType !== DataType.FLOAT) continue;
    const dims = dimsOf(tensor);
    if (elementCount(dims) < options.minElements) continue;
    const tensorUses = uses.get(tensor.name) ?? [];
    if (tensorUses.length === 0) continue;
    if (!tensorUses.every((u) => u.node && u.index === 1 && ops.has(u.node.opType) && !options.keepFloat.has(u.node.name))) continue;
    const nodes = tensorUses.map((u) => u.node!);
    const axes = new Set(nodes.map((n) => channelAxis(n, dims)));
    found.push({ tensor, dims, axis: axes.size === 1 ? [...axes][0] : undefined, nodes });
  }
  return found;
}
