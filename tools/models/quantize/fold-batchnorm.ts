// Folds a BatchNormalization that alone consumes a Conv's output into the Conv's weights and bias, as
// onnxruntime does at load. Done before quantizing so the weights quantized are the ones that run and
// no float BatchNormalization sits between a Conv and its output's quantization.

import { consumers } from './graph-index.ts';
import { allGraphs, attribute, DataType, dimsOf, floatData, floatTensor, type Graph, type Model, type Tensor } from './onnx-io.ts';

function foldGraph(graph: Graph): number {
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const uses = consumers(graph);
  const float = (name: string | undefined): Tensor | undefined => {
    const t = name ? initializers.get(name) : undefined;
    return t && t.dataType === DataType.FLOAT ? t : undefined;
  };
  const removed = new Set<object>();
  let folded = 0;
  for (const conv of graph.node) {
    if (conv.opType !== 'Conv' || conv.domain) continue;
    const convUses = uses.get(conv.output[0]!) ?? [];
    const bn = convUses.length === 1 ? convUses[0]!.node : null;
    if (bn?.opType !== 'BatchNormalization' || bn.output.length !== 1 || convUses[0]!.index !== 0) continue;
    const weight = float(conv.input[1]);
    const [scale, shift, mean, variance] = [1, 2, 3, 4].map((i) => float(bn.input[i]));
    if (!weight || !scale || !shift || !mean || !variance || (uses.get(weight.name) ?? []).length !== 1) continue;
    const bias = conv.input[2] ? float(conv.input[2]) : undefined;
    if (conv.input[2] && (!bias || (uses.get(bias.name) ?? []).length !== 1)) continue;
    const epsilon = attribute(bn, 'epsilon')?.f ?? 1e-5;
    const [s, b, m, v] = [scale, shift, mean, variance].map(floatData) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const w = floatData(weight);
    const dims = dimsOf(weight);
    const channels = dims[0]!;
    const inner = w.length / channels;
    const oldBias = bias ? floatData(bias) : new Float32Array(channels);
    const newBias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const factor = s[c]! / Math.sqrt(v[c]! + epsilon);
      for (let i = c * inner; i < (c + 1) * inner; i++) w[i] = w[i]! * factor;
      newBias[c] = (oldBias[c]! - m[c]!) * factor + b[c]!;
    }
    const biasName = bias ? bias.name : `${weight.name}_folded_bias`;
    graph.initializer[graph.initializer.indexOf(weight)] = floatTensor(weight.name, dims, w);
    if (bias) graph.initializer[graph.initializer.indexOf(bias)] = floatTensor(biasName, [channels], newBias);
    else graph.initializer.push(floatTensor(biasName, [channels], newBias));
    conv.input[2] = biasName;
    conv.output[0] = bn.output[0]!;
    removed.add(bn);
    folded++;
  }
  graph.node = graph.node.filter((n) => !removed.has(n));
  const used = consumers(graph);
  graph.initializer = graph.initializer.filter((t) => used.has(t.name));
  return folded;
}

/** Returns how many BatchNormalization nodes were folded. */
export function foldBatchNorm(model: Model): number {
  return allGraphs(model.graph).reduce((sum, g) => sum + foldGraph(g), 0);
}
