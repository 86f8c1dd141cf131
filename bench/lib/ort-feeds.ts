// A protocol request's JSON tensors as onnxruntime feeds, for the benchmarks that run the same input
// in onnxruntime-node and onnxruntime-web (the two packages share the Tensor constructor's shape).

import type { JsonTensor } from '../../test/support/infer.ts';

interface OrtTensorModule<T> {
  Tensor: new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: readonly number[]) => T;
}

/** INT64 inputs as int64 tensors, every other input as float32 (what the edge models take). */
export function ortFeeds<T>(ort: OrtTensorModule<T>, inputs: readonly JsonTensor[]): Record<string, T> {
  return Object.fromEntries(
    inputs.map((t) => [
      t.name,
      t.datatype === 'INT64'
        ? new ort.Tensor('int64', BigInt64Array.from(t.data as number[], BigInt), t.shape)
        : new ort.Tensor('float32', Float32Array.from(t.data as number[]), t.shape),
    ]),
  );
}
