// `static-qdq`: QuantizeLinear → DequantizeLinear pairs on the activations entering and leaving each
// Conv and MatMul, with scales from ranges measured on real inputs (uint8, asymmetric, per tensor);
// weights int8 symmetric per output channel and biases int32 at (input scale × weight scale), each
// through a DequantizeLinear. That is the QDQ form onnxruntime's optimizer turns into QLinearConv /
// QLinearMatMul. Layers named in keepFloat compute in float (their weights are stored int8 by the
// weight-int8 pass afterwards). This file only rewrites the graph; ranges.ts measures.

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
import { quantizePerChannel, roundHalfEven, uint8Params, type ActivationParams } from './quant-math.ts';
import type { Ranges } from './ranges-file.ts';
import { findWeights, type Weight } from './weights.ts';

const staticOps = new Set(['Conv', 'MatMul']);

export interface StaticOptions {
  minElements: number;
  keepFloat: ReadonlySet<string>;
}

/** The nodes static-qdq quantizes, with their weights. */
function quantizable(graph: Graph, options: StaticOptions): Map<Node, Weight> {
  const byNode = new Map<Node, Weight>();
  for (const weight of findWeights(graph, { ...options, ops: staticOps })) {
    if (weight.axis === undefined && weight.nodes[0]!.opType === 'Conv') continue;
    for (const node of weight.nodes) byNode.set(node, weight);
  }
  return byNode;
}

/** The activation tensors whose ranges static-qdq needs: inputs and outputs of the quantized nodes. */
export function tensorsToCalibrate(model: Model, options: StaticOptions): Set<string> {
  const tensors = new Set<string>();
  for (const graph of allGraphs(model.graph)) {
    for (const node of quantizable(graph, options).keys()) {
      tensors.add(node.input[0]!);
      tensors.add(node.output[0]!);
    }
  }
  return tensors;
}

function quantizeGraph(graph: Graph, ranges: Ranges, names: NameScope, options: StaticOptions): number {
  const nodes = quantizable(graph, options);
  const outputs = new Set(graph.output.map((o) => o.name));
  // Only tensors this graph produces get a pair here: one from an enclosing graph has no producer to follow.
  const producedHere = new Set([...graph.input.map((i) => i.name), ...graph.node.flatMap((n) => n.output)]);
  const params = new Map<string, ActivationParams & { scaleName: string; zeroPointName: string; dequantized: string }>();
  const activation = (tensor: string) => {
    let found = params.get(tensor);
    if (found || outputs.has(tensor) || !producedHere.has(tensor)) return found;
    const range = ranges.get(tensor);
    if (!range) return undefined;
    const p = uint8Params(range[0], range[1]);
    found = {
      ...p,
      scaleName: names.unique(`${tensor}_scale`),
      zeroPointName: names.unique(`${tensor}_zero_point`),
      dequantized: names.unique(`${tensor}_dequantized`),
    };
    graph.initializer.push(
      floatTensor(found.scaleName, [], Float32Array.of(p.scale)),
      makeTensor(found.zeroPointName, DataType.UINT8, [], Uint8Array.of(p.zeroPoint)),
    );
    params.set(tensor, found);
    return found;
  };
  const weightScales = new Map<Weight, Float32Array>();
  const pairsAfter = new Map<string, Node[]>(); // producer output → its Q/DQ pair
  const weightNodes: Node[] = [];
  let count = 0;
  for (const [node, weight] of nodes) {
    const input = activation(node.input[0]!);
    if (!input) continue; // never reached during calibration (e.g. the other branch of an If)
    activation(node.output[0]!);
    const perChannel = weight.axis !== undefined;
    let scales = weightScales.get(weight);
    if (!scales) {
      const quantizedWeight = quantizePerChannel(floatData(weight.tensor), weight.dims, weight.axis);
      const values = quantizedWeight.values;
      scales = quantizedWeight.scales;
      weightScales.set(weight, scales);
      const name = weight.tensor.name;
      const quantized = names.unique(`${name}_quantized`);
      const scale = names.unique(`${name}_scale`);
      const zeroPoint = names.unique(`${name}_zero_point`);
      graph.initializer[graph.initializer.indexOf(weight.tensor)] = makeTensor(quantized, DataType.INT8, weight.dims, values);
      graph.initializer.push(
        floatTensor(scale, perChannel ? [scales.length] : [], scales),
        makeTensor(zeroPoint, DataType.INT8, perChannel ? [scales.length] : [], new Int8Array(scales.length)),
      );
      weightNodes.push(
        makeNode(
          'DequantizeLinear',
          [quantized, scale, zeroPoint],
          [name],
          names.unique(`${name}_DequantizeLinear`),
          perChannel ? [intAttr('axis', weight.axis!)] : [],
        ),
      );
    }
    const biasName = node.opType === 'Conv' ? node.input[2] : undefined;
    const bias = biasName ? graph.initializer.find((t) => t.name === biasName && t.dataType === DataType.FLOAT) : undefined;
    if (bias) {
      const b = floatData(bias);
      const biasScales = Float32Array.from(b, (_, c) => input.scale * scales[perChannel ? c : 0]!);
      const q = Int32Array.from(b, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfEven(v / biasScales[c]!))));
      const quantized = names.unique(`${bias.name}_quantized`);
      const scale = names.unique(`${bias.name}_scale`);
      graph.initializer[graph.initializer.indexOf(bias)] = makeTensor(quantized, DataType.INT32, [b.length], q);
      graph.initializer.push(floatTensor(scale, [b.length], biasScales));
      weightNodes.push(
        makeNode('DequantizeLinear', [quantized, scale], [bias.name], names.unique(`${bias.name}_DequantizeLinear`), [intAttr('axis', 0)]),
      );
    }
    count++;
  }
  // One Q/DQ pair per quantized tensor, right after its producer; every consumer reads the DQ output.
  for (const [tensor, p] of params) {
    const quantized = names.unique(`${tensor}_quantized`);
    pairsAfter.set(tensor, [
      makeNode('QuantizeLinear', [tensor, p.scaleName, p.zeroPointName], [quantized], names.unique(`${tensor}_QuantizeLinear`)),
      makeNode('DequantizeLinear', [quantized, p.scaleName, p.zeroPointName], [p.dequantized], names.unique(`${tensor}_DequantizeLinear`)),
    ]);
  }
  // Rewired before the pairs exist, so each QuantizeLinear still reads the float tensor.
  for (const node of graph.node) node.input = node.input.map((name) => params.get(name)?.dequantized ?? name);
  const graphInputs = graph.input.map((i) => i.name).filter((n) => pairsAfter.has(n));
  graph.node = [
    ...weightNodes,
    ...graphInputs.flatMap((n) => pairsAfter.get(n)!),
    ...graph.node.flatMap((node) => [node, ...node.output.flatMap((out) => pairsAfter.get(out) ?? [])]),
  ];
  return count;
}

/** Quantizes in place (opset ≥ 13) from `ranges`; returns how many nodes now run on quantized inputs. */
export function quantizeStatic(model: Model, ranges: Ranges, options: StaticOptions): number {
  const names = new NameScope(model);
  return allGraphs(model.graph).reduce((sum, g) => sum + quantizeGraph(g, ranges, names, options), 0);
}
