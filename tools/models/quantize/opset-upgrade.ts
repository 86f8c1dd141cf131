// Raises the default-domain opset of a model to 13, the first with per-channel (axis)
// QuantizeLinear/DequantizeLinear. Only ops whose meaning is known not to change between the model's
// opset and 13 are accepted as they are; the few that changed are rewritten to their opset-13 form, and
// any other op stops the upgrade by name rather than risking a silent change of meaning.
// The tests check the upgraded float model against the original on real inputs.

import {
  allGraphs,
  attribute,
  defaultOpset,
  floatTensor,
  int64Tensor,
  intAttr,
  intAttribute,
  intsAttribute,
  makeNode,
  NameScope,
  toNumber,
  type Graph,
  type Model,
  type Node,
} from './onnx-io.ts';

export const targetOpset = 13;

// Ops whose every version from opset 7 to 13 computes the same thing for the same inputs and attributes
// (later versions only add types, negative axes or optional inputs). From the ONNX operator changelog.
const unchangedTo13 = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Sqrt',
  'Relu',
  'Sigmoid',
  'HardSigmoid',
  'Tanh',
  'Exp',
  'Log',
  'Abs',
  'Neg',
  'Conv',
  'ConvTranspose',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'MatMul',
  'Gemm',
  'Concat',
  'Reshape',
  'Shape',
  'Gather',
  'Transpose',
  'Cast',
  'Constant',
  'ConstantOfShape',
  'Identity',
  'Flatten',
  'ReduceMean',
  'ReduceMax',
  'Equal',
  'Not',
  'Size',
  'If',
  'LSTM',
  'Expand',
  'Where',
  'Greater',
  'Less',
]);
// Changed before 13 but identical from the listed opset on.
const unchangedFrom: Record<string, number> = { Resize: 11, Pad: 11, Slice: 10, Clip: 11, Squeeze: 13, Unsqueeze: 13, Softmax: 13 };

function rewriteNode(node: Node, fromOpset: number, graph: Graph, names: NameScope): Node[] {
  const addConst = (base: string, values: number[]) => {
    const name = names.unique(`${node.name || node.opType}_${base}`);
    graph.initializer.push(int64Tensor(name, values));
    return name;
  };
  switch (node.opType) {
    case 'Slice': {
      // Slice-1 attributes starts/ends/axes became inputs in Slice-10.
      const inputs = [node.input[0]!, addConst('starts', intsAttribute(node, 'starts')!), addConst('ends', intsAttribute(node, 'ends')!)];
      const axes = intsAttribute(node, 'axes');
      if (axes) inputs.push(addConst('axes', axes));
      return [makeNode('Slice', inputs, node.output, node.name)];
    }
    case 'Clip': {
      // Clip-6 attributes min/max became optional scalar inputs in Clip-11 (same defaults: none).
      const bound = (which: 'min' | 'max') => {
        const attr = attribute(node, which);
        if (!attr) return '';
        const name = names.unique(`${node.name || 'Clip'}_${which}`);
        graph.initializer.push(floatTensor(name, [], Float32Array.of(attr.f)));
        return name;
      };
      const min = bound('min');
      const max = bound('max');
      return [makeNode('Clip', max ? [node.input[0]!, min, max] : min ? [node.input[0]!, min] : [node.input[0]!], node.output, node.name)];
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const axes = intsAttribute(node, 'axes');
      return [makeNode(node.opType, axes ? [node.input[0]!, addConst('axes', axes)] : [node.input[0]!], node.output, node.name)];
    }
    case 'Softmax': {
      // Softmax before 13 flattens to 2-D at `axis` (default 1) and normalises over everything after
      // it; Softmax-13 normalises over `axis` alone. Flatten → Softmax(axis 1) → Reshape back keeps
      // the old meaning exactly whatever the rank.
      const axis = intAttribute(node, 'axis') ?? 1;
      const base = node.name || 'Softmax';
      const shape = names.unique(`${base}_shape`);
      const flat = names.unique(`${base}_flat`);
      const soft = names.unique(`${base}_soft`);
      return [
        makeNode('Shape', [node.input[0]!], [shape], names.unique(`${base}_Shape`)),
        makeNode('Flatten', [node.input[0]!], [flat], names.unique(`${base}_Flatten`), [intAttr('axis', axis)]),
        makeNode('Softmax', [flat], [soft], node.name, [intAttr('axis', 1)]),
        makeNode('Reshape', [soft, shape], node.output, names.unique(`${base}_Reshape`)),
      ];
    }
    default:
      throw new Error(`cannot upgrade ${node.opType} (node '${node.name}') from opset ${fromOpset} to ${targetOpset}`);
  }
}

/** Upgrades in place when the model's opset is below 13; returns the opset it had. */
export function upgradeOpset(model: Model): number {
  const from = defaultOpset(model);
  if (from >= targetOpset) return from;
  const names = new NameScope(model);
  for (const graph of allGraphs(model.graph)) {
    graph.node = graph.node.flatMap((node) => {
      if (node.domain && node.domain !== 'ai.onnx') return [node];
      if (unchangedTo13.has(node.opType)) return [node];
      const since = unchangedFrom[node.opType];
      if (since !== undefined && from >= since) return [node];
      return rewriteNode(node, from, graph, names);
    });
  }
  for (const entry of model.opsetImport) if (!entry.domain || entry.domain === 'ai.onnx') entry.version = targetOpset;
  // IR version 7 is the first to know opset 13.
  if (toNumber(model.irVersion) < 7) model.irVersion = 7;
  return from;
}
