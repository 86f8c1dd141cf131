// Turns request tensors (JSON values, or raw bytes from the binary tensor data extension) into typed
// arrays and back. Every size is checked before anything is allocated: a caller controls `shape` and
// `data`, and neither may make a tier allocate more than the model's element limit allows.

import { type Datatype, datatypeOf, datatypes, jsonValue, type NonFiniteName, type TensorData } from './datatypes.ts';
import { InvalidInput } from './errors.ts';
import type { RequestInput, ResponseOutput, TensorMetadata } from './schemas.ts';
import { checkShape, type ShapeLimits } from './shape.ts';

export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/**
 * A request input as the codec takes it: `data` holds JSON values, or, for an input sent with the
 * binary tensor data extension (protocol/binary.ts), its little-endian row-major bytes.
 */
export type TensorInput = Omit<RequestInput, 'data'> & { data: unknown[] | Uint8Array };

// The wire is little-endian; typed arrays use the platform's order, which is little-endian on every
// platform the tiers run on (x86, ARM). A big-endian host still decodes correctly, by swapping.
const platformIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapByteOrder(bytes: Uint8Array, width: number): void {
  for (let start = 0; start < bytes.length; start += width) bytes.subarray(start, start + width).reverse();
}

/** Walks nested `data` without allocating and confirms that it has exactly `shape`'s structure. */
function checkNesting(name: string, data: unknown[], shape: readonly number[], axis: number): void {
  if (data.length !== shape[axis]) {
    throw new InvalidInput(`input '${name}' data has ${data.length} entries at dimension ${axis}; its shape says ${shape[axis]}`);
  }
  if (axis === shape.length - 1) return;
  for (const row of data) {
    if (!Array.isArray(row)) throw new InvalidInput(`input '${name}' data mixes nested arrays and values`);
    checkNesting(name, row, shape, axis + 1);
  }
}

function flatten(data: unknown[], shape: readonly number[]): unknown[] {
  return shape.length <= 1 ? data : (data as unknown[][]).flat(shape.length - 1);
}

/**
 * Decodes one request input against the model's declaration of it. `data` may be flat (row-major) or
 * nested to the tensor's rank, as the protocol allows. The shape is checked (protocol/shape.ts) before
 * anything is allocated.
 */
export function decodeTensor(input: TensorInput, declared: TensorMetadata, limits: ShapeLimits): Tensor {
  const { name } = input;
  if (!(datatypes as readonly string[]).includes(input.datatype)) {
    throw new InvalidInput(`input '${name}' has unknown datatype '${input.datatype}'; known: ${datatypes.join(', ')}`);
  }
  if (input.datatype !== declared.datatype) {
    throw new InvalidInput(`input '${name}' has datatype ${input.datatype}; the model expects ${declared.datatype}`);
  }
  const elements = checkShape(name, input.shape, declared.shape, limits);
  const shape = input.shape as number[];
  if (input.data instanceof Uint8Array) {
    return { name, datatype: declared.datatype, shape, data: decodeBytes(name, declared.datatype, shape, elements, input.data) };
  }
  const nested = input.data.length > 0 && Array.isArray(input.data[0]);
  if (nested) {
    checkNesting(name, input.data, shape, 0);
  } else if (input.data.length !== elements) {
    throw new InvalidInput(`input '${name}' has ${input.data.length} data values; shape [${shape.join(', ')}] needs ${elements}`);
  }
  const values = nested ? flatten(input.data, shape) : input.data;
  const info = datatypeOf(declared.datatype);
  const data = info.allocate(elements);
  for (let index = 0; index < elements; index++) {
    if (!info.store(data, index, values[index])) {
      throw new InvalidInput(
        `input '${name}' value ${JSON.stringify(values[index]) ?? 'undefined'} at index ${index} does not fit datatype ${declared.datatype}`,
      );
    }
  }
  return { name, datatype: declared.datatype, shape, data };
}

/** Copies an input's binary data into a new typed array, once its length matches the shape exactly. */
function decodeBytes(name: string, datatype: Datatype, shape: readonly number[], elements: number, bytes: Uint8Array): TensorData {
  const info = datatypeOf(datatype);
  const needed = elements * info.bytesPerElement;
  if (bytes.length !== needed) {
    throw new InvalidInput(
      `input '${name}' has ${bytes.length} bytes of binary data; shape [${shape.join(', ')}] of ${datatype} needs ${needed}`,
    );
  }
  const data = info.allocate(elements);
  // Copied, not viewed: the bytes sit at an arbitrary offset of the body, and typed arrays need
  // their element alignment.
  const target = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  target.set(bytes);
  if (!platformIsLittleEndian) swapByteOrder(target, info.bytesPerElement);
  if (datatype === 'BOOL') {
    const index = target.findIndex((byte) => byte > 1);
    if (index !== -1)
      throw new InvalidInput(`input '${name}' byte ${target[index]} at index ${index} is not a BOOL: binary BOOL is 0 or 1`);
  }
  return data;
}

/** A tensor's data as the binary tensor data extension sends it: little-endian, row-major. */
export function tensorBytes(tensor: Tensor): Uint8Array {
  const { data } = tensor;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (platformIsLittleEndian) return bytes;
  const swapped = bytes.slice();
  swapByteOrder(swapped, datatypeOf(tensor.datatype).bytesPerElement);
  return swapped;
}

/**
 * Encodes a tensor as a JSON response output (flat, row-major data). NaN and ±Infinity, which JSON
 * numbers cannot hold, are written as the strings "NaN", "Infinity" and "-Infinity" (protocol/datatypes.ts).
 */
export function encodeTensor(tensor: Tensor): ResponseOutput {
  const info = datatypeOf(tensor.datatype);
  const data = new Array<number | boolean | NonFiniteName>(tensor.data.length);
  for (let index = 0; index < data.length; index++) data[index] = jsonValue(info.load(tensor.data, index));
  return { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, data };
}
