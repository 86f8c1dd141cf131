// `weight-int8`: the weights of Conv/ConvTranspose/MatMul/Gemm stored as int8 with one scale per output
// channel and turned back into float by a DequantizeLinear in the graph, so the file shrinks about 4×
// and the same float kernels run. Per-channel DequantizeLinear needs opset 13.

import {
  allGraphs,
  DataType,
  floatData as floatDataOf,
  floatTensor,
  intAttr,
  makeNode,
  makeTensor,
  NameScope,
  type Model,
} from './onnx-io.ts';
import { quantizePerChannel } from './quant-math.ts';
import { findWeights } from './weights.ts';

export interface WeightInt8Options {
  minElements: number;
  keepFloat: ReadonlySet<string>;
}

/** Quantizes in place (opset must already be ≥ 13); returns how many weights were quantized. */
export function quantizeWeightsInt8(model: Model, options: WeightInt8Options): number {
  const names = new NameScope(model);
  let count = 0;
  for (const graph of allGraphs(model.graph)) {
    const dequantizers = [];
    for (const weight of findWeights(graph, options)) {
      const { scales, values } = quantizePerChannel(floatDataOf(weight.tensor), weight.dims, weight.axis);
      const name = weight.tensor.name;
      const quantized = names.unique(`${name}_quantized`);
      const scale = names.unique(`${name}_scale`);
      const zeroPoint = names.unique(`${name}_zero_point`);
      const perChannel = weight.axis !== undefined;
      graph.initializer[graph.initializer.indexOf(weight.tensor)] = makeTensor(quantized, DataType.INT8, weight.dims, values);
      graph.initializer.push(floatTensor(scale, perChannel ? [scales.length] : [], scales));
      graph.initializer.push(makeTensor(zeroPoint, DataType.INT8, perChannel ? [scales.length] : [], new Int8Array(scales.length)));
      dequantizers.push(
        makeNode(
          'DequantizeLinear',
          [quantized, scale, zeroPoint],
          [name],
          names.unique(`${name}_DequantizeLinear`),
          perChannel ? [intAttr('axis', weight.axis!)] : [],
        ),
      );
      count++;
    }
    graph.node.unshift(...dequantizers);
  }
  return count;
}
