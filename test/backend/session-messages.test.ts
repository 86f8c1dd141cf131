import { describe, expect, it } from 'vitest';
import { movable, movableTensors } from '../../gpu-backend/session-messages.ts';

describe('movable', () => {
  it('moves data that owns its whole buffer without copying it', () => {
    const data = new Float32Array([1, 2, 3]);
    const moved = movable(data);
    expect(moved.data).toBe(data);
    expect(moved.transfer).toEqual([data.buffer]);
  });

  it('copies a view into a larger buffer, leaving that buffer whole', () => {
    const body = new Float32Array([9, 1, 2, 3, 9]);
    const view = body.subarray(1, 4);
    const moved = movable(view);
    expect(moved.data).not.toBe(view);
    expect([...moved.data]).toEqual([1, 2, 3]);
    expect(moved.transfer).toEqual([moved.data.buffer]);
    structuredClone(moved.data, { transfer: moved.transfer });
    expect([...body]).toEqual([9, 1, 2, 3, 9]);
  });

  it('leaves shared memory to be cloned', () => {
    const data = new Int32Array(new SharedArrayBuffer(8));
    expect(movable(data)).toEqual({ data, transfer: [] });
  });

  it('lists a buffer two tensors share only once', () => {
    const data = new Float32Array(4);
    const { transfer } = movableTensors([
      { name: 'a', ortType: 'float32', shape: [4], data },
      { name: 'b', ortType: 'float32', shape: [4], data },
    ]);
    expect(transfer).toEqual([data.buffer]);
  });
});
