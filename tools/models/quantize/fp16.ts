// `fp16`: float16 weights and activations for the GPU tier, with the model's float32 inputs and outputs
// kept (a Cast after each input, before each output). Tensors an op requires in float32 stay float32:
// Resize's roi and scales. On CPU, onnxruntime runs the ops it has no float16 kernel for behind Casts
// it inserts itself, so the model loads everywhere but only a GPU gains speed.

import {
  AttrType,
  allGraphs,
  DataType,
  intAttr,
  makeNode,
  makeTensor,
  NameScope,
  floatData,
  type Graph,
  type Model,
  type Tensor,
} from './onnx-io.ts';
import { toFloat16 } from './quant-math.ts';

/** Input slots that must stay float32 whatever the data type of the op's other inputs. */
const float32Slots: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };
// Ops run in float32 between Casts: onnxruntime's CPU float16 BatchNormalization answers wrongly
// (PaddleOCR det: 11.4 off where fp32 is under 1), and its mean/variance lose too much in float16.
const float32Ops = new Set(['BatchNormalization']);

function toHalfTensor(tensor: Tensor): Tensor {
  const half = makeTensor(
    tensor.name,
    DataType.FLOAT16,
    tensor.dims.map((d) => (typeof d === 'number' ? d : d.toNumber())),
    toFloat16(floatData(tensor)),
  );
  return half;
}

function convertGraph(graph: Graph, names: NameScope): void {
  const keep = new Set<string>();
  for (const node of graph.node) {
    for (const slot of float32Slots[node.opType] ?? []) if (node.input[slot]) keep.add(node.input[slot]!);
    if (float32Ops.has(node.opType)) for (const name of node.input.slice(1)) keep.add(name);
  }
  graph.initializer = graph.initializer.map((t) => (t.dataType === DataType.FLOAT && !keep.has(t.name) ? toHalfTensor(t) : t));
  for (const node of graph.node) {
    for (const attr of node.attribute) {
      if (node.opType === 'Cast' && attr.name === 'to' && Number(attr.i) === DataType.FLOAT) attr.i = DataType.FLOAT16;
      if (attr.type === AttrType.TENSOR && attr.t && attr.t.dataType === DataType.FLOAT) attr.t = toHalfTensor(attr.t);
    }
  }
  // After the Cast retargeting above, so the Casts added here keep their float32 target.
  graph.node = graph.node.flatMap((node) => {
    if (!float32Ops.has(node.opType)) return [node];
    const base = node.name || node.opType;
    const input32 = names.unique(`${base}_input_fp32`);
    const output32 = names.unique(`${base}_output_fp32`);
    const input16 = node.input[0]!;
    const output16 = node.output[0]!;
    node.input[0] = input32;
    node.output[0] = output32;
    return [
      makeNode('Cast', [input16], [input32], names.unique(`${base}_CastIn`), [intAttr('to', DataType.FLOAT)]),
      node,
      makeNode('Cast', [output32], [output16], names.unique(`${base}_CastOut`), [intAttr('to', DataType.FLOAT16)]),
    ];
  });
  graph.valueInfo = [];
}

/** Converts in place; the main graph's float inputs and outputs stay float32. */
export function convertToFloat16(model: Model): void {
  const names = new NameScope(model);
  const graphs = allGraphs(model.graph);
  for (const graph of graphs) convertGraph(graph, names);
  // Subgraph outputs (If branches) are typed: float outputs become float16 like the values they carry.
  for (const graph of graphs.slice(1)) {
    for (const value of [...graph.input, ...graph.output]) {
      const tensorType = value.type?.tensorType;
      if (tensorType && tensorType.elemType === DataType.FLOAT) tensorType.elemType = DataType.FLOAT16;
    }
  }
  const main = model.graph;
  const isFloat = (v: { type: { tensorType: { elemType: number } | null } | null }) => v.type?.tensorType?.elemType === DataType.FLOAT;
  const prologue = [];
  for (const input of main.input.filter(isFloat)) {
    const half = names.unique(`${input.name}_fp16`);
    for (const node of main.node) node.input = node.input.map((n) => (n === input.name ? half : n));
    renameInSubgraphs(main, input.name, half);
    prologue.push(makeNode('Cast', [input.name], [half], names.unique(`${input.name}_Cast`), [intAttr('to', DataType.FLOAT16)]));
  }
  for (const output of main.output.filter(isFloat)) {
    const half = names.unique(`${output.name}_fp16`);
    for (const node of main.node) node.output = node.output.map((n) => (n === output.name ? half : n));
    for (const node of main.node) node.input = node.input.map((n) => (n === output.name ? half : n));
    main.node.push(makeNode('Cast', [half], [output.name], names.unique(`${output.name}_Cast`), [intAttr('to', DataType.FLOAT)]));
  }
  main.node.unshift(...prologue);
}

/** Outer-scope references inside subgraphs follow a rename in the enclosing graph. */
function renameInSubgraphs(graph: Graph, from: string, to: string): void {
  for (const node of graph.node) {
    for (const attr of node.attribute) {
      for (const sub of [...(attr.g ? [attr.g] : []), ...attr.graphs]) {
        for (const inner of allGraphs(sub)) {
          for (const n of inner.node) n.input = n.input.map((name) => (name === from ? to : name));
        }
      }
    }
  }
}
