// Joins tensors along one axis and splits them back: the data movement behind dynamic batching and
// Vertex's one-instance-per-row mapping. Row-major layout means a tensor is `outer` blocks of
// `size(axis) * inner` elements, so concatenation interleaves each part's block per outer index.

import { datatypeOf } from '../protocol/datatypes.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';

function product(sizes: readonly number[]): number {
  return sizes.reduce((total, size) => total * size, 1);
}

/** Concatenates tensors whose shapes agree everywhere but `axis`. */
export function concatAlong(parts: readonly Tensor[], axis: number): Tensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const outer = product(first.shape.slice(0, axis));
  const inner = product(first.shape.slice(axis + 1));
  const total = parts.reduce((sum, part) => sum + part.shape[axis]!, 0);
  const data = datatypeOf(first.datatype).allocate(outer * total * inner);
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const part of parts) {
      const block = part.shape[axis]! * inner;
      // TypedArray.set between arrays of the same element type; the casts only satisfy the union.
      (data as Float32Array).set((part.data as Float32Array).subarray(o * block, (o + 1) * block), offset);
      offset += block;
    }
  }
  const shape = [...first.shape];
  shape[axis] = total;
  return { name: first.name, datatype: first.datatype, shape, data };
}

/**
 * Splits a tensor along `axis` into consecutive pieces of the given sizes. Along the outermost axis
 * (the usual batch axis) each piece is one contiguous run of the data and is returned as a view of it,
 * saving a copy of the whole batch's outputs; along an inner axis each piece is gathered into a copy.
 */
export function splitAlong(tensor: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  if (sizes.length === 1) return [tensor];
  const outer = product(tensor.shape.slice(0, axis));
  const inner = product(tensor.shape.slice(axis + 1));
  const whole = tensor.shape[axis]! * inner;
  const info = datatypeOf(tensor.datatype);
  let start = 0;
  return sizes.map((size) => {
    const block = size * inner;
    const shape = [...tensor.shape];
    shape[axis] = size;
    if (outer === 1) {
      const data = (tensor.data as Float32Array).subarray(start * inner, start * inner + block) as Tensor['data'];
      start += size;
      return { name: tensor.name, datatype: tensor.datatype, shape, data };
    }
    const data = info.allocate(outer * block);
    for (let o = 0; o < outer; o++) {
      const from = o * whole + start * inner;
      (data as Float32Array).set((tensor.data as Float32Array).subarray(from, from + block), o * block);
    }
    start += size;
    return { name: tensor.name, datatype: tensor.datatype, shape, data };
  });
}
