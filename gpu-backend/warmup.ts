// A small all-zero input for a model's first run, derived from its manifest: creating a session does
// not allocate kernels' buffers or pick algorithms; the first run does, and no caller should pay for it.

import { datatypeOf } from '../protocol/datatypes.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import type { Manifest } from '../models/manifest.ts';

// 32 satisfies the common constraints of dynamic sides: PaddleOCR det needs multiples of 32, and a
// model with a fixed side (rec's height 48) declares it in its shape, which is kept as is. A model
// with other needs says so in its manifest (`inputs[].warmup`).
const warmupSideSize = 32;

export function warmupInputs(manifest: Manifest): Tensor[] {
  return manifest.inputs.map((spec) => {
    const shape =
      spec.warmup?.shape ?? spec.shape.map((size, axis) => (size !== -1 ? size : axis === spec.batchDimension ? 1 : warmupSideSize));
    const elements = shape.reduce((total, size) => total * size, 1);
    const type = datatypeOf(spec.datatype);
    const data = type.allocate(elements);
    if (spec.warmup?.value !== undefined) for (let i = 0; i < elements; i++) type.store(data, i, spec.warmup.value);
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });
}
