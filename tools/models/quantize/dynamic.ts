// `dynamic-uint8`: what onnxruntime's `quantize_dynamic` emits for Conv and MatMul, with standard ops
// only so both runtimes run it. Each activation is quantized at run time by DynamicQuantizeLinear
// (uint8, per tensor); the weight is stored uint8; ConvInteger / MatMulInteger accumulate in int32;
// Cast and one Mul by (activation scale × weight scale) bring the result back to float, and the bias
// is added in float.
// Unlike quantize_dynamic's per-tensor weights, the weights here keep one scale per output channel on
// a symmetric grid stored with zero point 128: ConvInteger only takes a scalar weight zero point, but
// the per-channel scale is just the final Mul's operand, so it costs nothing at run time.
// LSTM stays float (quantize_dynamic's DynamicQuantizeLSTM is what put silero-vad's state off).

import { consumers } from './graph-index.ts';
import {
  allGraphs,
  DataType,
  floatData,
  floatTensor,
  intAttr,
  makeNode,
  makeTensor,
  NameScope,
  type Graph,
  type Model,
  type Node,
} from './onnx-io.ts';
import { quantizePerChannel, toUint8Grid } from './quant-math.ts';
import { findWeights, type Weight } from './weights.ts';

export interface DynamicOptions {
  minElements: number;
  keepFloat: ReadonlySet<string>;
}

const dynamicOps = new Set(['Conv', 'MatMul']);

interface QuantizedActivation {
  value: string;
  scale: string;
  zeroPoint: string;
}

function quantizeGraph(graph: Graph, names: NameScope, options: DynamicOptions): number {
  const weights = findWeights(graph, { ...options, ops: dynamicOps }).filter(
    (w) => w.axis !== undefined || w.nodes[0]!.opType === 'MatMul',
  );
  if (weights.length === 0) return 0;
  const byNode = new Map<Node, Weight>();
  for (const w of weights) for (const node of w.nodes) byNode.set(node, w);
  const activations = new Map<string, QuantizedActivation>();
  const storedWeights = new Map<Weight, { value: string; zeroPoint: string; scales: Float32Array }>();
  const replaced = new Map<Node, Node[]>();
  const prologue: Node[] = [];

  for (const [node, weight] of byNode) {
    const base = node.name || node.output[0]!;
    const added: Node[] = [];
    const input = node.input[0]!;
    let activation = activations.get(input);
    if (!activation) {
      activation = {
        value: names.unique(`${input}_quantized`),
        scale: names.unique(`${input}_scale`),
        zeroPoint: names.unique(`${input}_zero_point`),
      };
      added.push(
        makeNode(
          'DynamicQuantizeLinear',
          [input],
          [activation.value, activation.scale, activation.zeroPoint],
          names.unique(`${input}_DynamicQuantizeLinear`),
        ),
      );
      activations.set(input, activation);
    }
    let stored = storedWeights.get(weight);
    if (!stored) {
      const { scales, values } = quantizePerChannel(floatData(weight.tensor), weight.dims, weight.axis);
      stored = {
        value: names.unique(`${weight.tensor.name}_quantized`),
        zeroPoint: names.unique(`${weight.tensor.name}_zero_point`),
        scales,
      };
      graph.initializer[graph.initializer.indexOf(weight.tensor)] = makeTensor(
        stored.value,
        DataType.UINT8,
        weight.dims,
        toUint8Grid(values),
      );
      graph.initializer.push(makeTensor(stored.zeroPoint, DataType.UINT8, [], Uint8Array.of(128)));
      storedWeights.set(weight, stored);
    }
    // Weight scales shaped to broadcast over the op's output: [C, 1, …] for Conv (NC…), [N] for MatMul.
    const scaleDims = node.opType === 'Conv' ? [stored.scales.length, ...weight.dims.slice(2).map(() => 1)] : [stored.scales.length];
    const weightScale = names.unique(`${base}_weight_scale`);
    graph.initializer.push(floatTensor(weightScale, stored.scales.length === 1 ? [] : scaleDims, stored.scales));
    const integerOut = names.unique(`${base}_int32`);
    const floatOut = names.unique(`${base}_int32_float`);
    const scale = names.unique(`${base}_output_scale`);
    const intOp = node.opType === 'Conv' ? 'ConvInteger' : 'MatMulInteger';
    const attributes = node.opType === 'Conv' ? node.attribute : [];
    const bias = node.opType === 'Conv' ? node.input[2] : undefined;
    const scaled = bias ? names.unique(`${base}_scaled`) : node.output[0]!;
    added.push(
      makeNode(
        intOp,
        [activation.value, stored.value, activation.zeroPoint, stored.zeroPoint],
        [integerOut],
        names.unique(`${base}_${intOp}`),
        attributes,
      ),
      makeNode('Cast', [integerOut], [floatOut], names.unique(`${base}_Cast`), [intAttr('to', DataType.FLOAT)]),
      makeNode('Mul', [activation.scale, weightScale], [scale], names.unique(`${base}_scales_Mul`)),
      makeNode('Mul', [floatOut, scale], [scaled], names.unique(`${base}_output_Mul`)),
    );
    if (bias) {
      const biasTensor = graph.initializer.find((t) => t.name === bias);
      if (!biasTensor) throw new Error(`Conv '${node.name}': bias '${bias}' is not an initializer`);
      const shaped = names.unique(`${bias}_broadcast`);
      graph.initializer.push(floatTensor(shaped, scaleDims, floatData(biasTensor)));
      added.push(makeNode('Add', [scaled, shaped], [node.output[0]!], names.unique(`${base}_bias_Add`)));
    }
    replaced.set(node, added);
  }
  graph.node = [...prologue, ...graph.node.flatMap((node) => replaced.get(node) ?? [node])];
  // Biases now read through their broadcast copies; drop the originals nothing uses any more.
  const used = consumers(graph);
  graph.initializer = graph.initializer.filter((t) => used.has(t.name));
  return byNode.size;
}

/** Quantizes in place (opset must be ≥ 11 for DynamicQuantizeLinear); returns how many ops became integer ops. */
export function quantizeDynamic(model: Model, options: DynamicOptions): number {
  const names = new NameScope(model);
  return allGraphs(model.graph).reduce((sum, graph) => sum + quantizeGraph(graph, names, options), 0);
}
