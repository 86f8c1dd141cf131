// The one check of a tensor's shape and size, shared by both tiers and by clients, run on what the
// caller sent before any typed array or onnxruntime tensor exists. A shape comes from JSON, so each
// dimension is a double: only safe integers are sizes (1e300 and 2^53+2 are JSON integers, yet no
// allocator or onnxruntime can take them), and the element and byte products are computed so that they
// never leave the safe integers, whatever the sizes.

import { InvalidInput, PayloadTooLarge } from './errors.ts';

export interface ShapeLimits {
  /** Elements the tensor may have; past it, 413. */
  maxElements: number;
  /**
   * Whether a dimension may be 0 (a tensor of no elements). Requests to a model may not: an empty
   * batch or an empty state reaches code paths in the models' graphs that abort the whole process
   * natively (Silero VAD with batch 0 ends onnxruntime-node with `terminate called`), and no model
   * here has a use for one. Answers read by a client may: a model is free to answer an empty tensor.
   */
  allowEmpty: boolean;
}

/**
 * Checks a shape against the model's declared one (`-1`: any size) and returns its element count.
 * Throws InvalidInput for a malformed shape and PayloadTooLarge past `limits.maxElements`. Each
 * dimension is also at most `maxElements`, so a zero elsewhere cannot carry an absurd size through.
 */
export function checkShape(name: string, shape: readonly unknown[], declared: readonly number[], limits: ShapeLimits): number {
  if (shape.length !== declared.length) {
    throw new InvalidInput(
      `input '${name}' has rank ${shape.length}; the model expects rank ${declared.length} (shape [${declared.join(', ')}])`,
    );
  }
  let empty = false;
  for (const [axis, size] of shape.entries()) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new InvalidInput(
        `input '${name}' has an invalid size ${JSON.stringify(size) ?? String(size)} at dimension ${axis}: sizes are integers from 0 to 2^53 - 1`,
      );
    }
    const expected = declared[axis]!;
    if (expected !== -1 && size !== expected) {
      throw new InvalidInput(`input '${name}' has size ${size} at dimension ${axis}; the model expects ${expected}`);
    }
    if (size === 0) {
      if (!limits.allowEmpty) {
        throw new InvalidInput(
          `input '${name}' has size 0 at dimension ${axis}: a tensor must have at least one element (an empty batch is refused)`,
        );
      }
      empty = true;
    }
    if (size > limits.maxElements) {
      throw new PayloadTooLarge(
        `input '${name}' has size ${size} at dimension ${axis}, so at least ${size} elements; this request may carry at most ${limits.maxElements}`,
      );
    }
  }
  if (empty) return 0;
  // Every size is now a safe integer from 1 to maxElements, and the running product is compared at each
  // step: a product up to 2^53 is exact and a larger one rounds to at least 2^53, so the comparison is
  // right even where the product is not. A tensor's bytes (elements × at most 8) are then safe too.
  let elements = 1;
  for (const size of shape as readonly number[]) {
    elements *= size;
    if (elements > limits.maxElements) {
      throw new PayloadTooLarge(
        `input '${name}' has shape [${shape.join(', ')}], at least ${elements} elements; this request may carry at most ${limits.maxElements}`,
      );
    }
  }
  return elements;
}
