import { describe, expect, it } from 'vitest';
import { concatAlong, splitAlong } from '../../gpu-backend/batch-tensors.ts';
import type { Tensor } from '../../protocol/tensor-codec.ts';

const tensor = (shape: number[], start = 0): Tensor => ({
  name: 't',
  datatype: 'FP32',
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => start + i),
});

describe('splitAlong', () => {
  it('gives each caller its rows along the outermost axis as views of the batch, without copying', () => {
    const batch = tensor([3, 2]);
    const [first, rest] = splitAlong(batch, 0, [1, 2]);
    expect(first!.shape).toEqual([1, 2]);
    expect([...first!.data]).toEqual([0, 1]);
    expect(rest!.shape).toEqual([2, 2]);
    expect([...rest!.data]).toEqual([2, 3, 4, 5]);
    expect(rest!.data.buffer).toBe(batch.data.buffer);
  });

  it('gathers pieces along an inner axis into copies, and undoes concatAlong', () => {
    const [a, b] = [tensor([2, 1, 3]), tensor([2, 2, 3], 100)];
    const joined = concatAlong([a, b], 1);
    const [a2, b2] = splitAlong(joined, 1, [1, 2]);
    expect(a2).toEqual(a);
    expect(b2).toEqual(b);
    expect(a2!.data.buffer).not.toBe(joined.data.buffer);
  });
});
