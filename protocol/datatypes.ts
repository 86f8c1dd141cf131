// Open Inference Protocol v2 tensor datatypes: their typed-array storage, byte width, and the range of
// values each accepts from JSON. FP16 is held as its IEEE 754 binary16 bit patterns (Uint16Array),
// which is what onnxruntime (web and node) expects for float16 tensors.

import { z } from 'zod';

export const datatypes = ['BOOL', 'UINT8', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64'] as const;
export const Datatype = z.enum(datatypes);
export type Datatype = z.infer<typeof Datatype>;

export type TensorData = Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint16Array | Float32Array | Float64Array;

interface DatatypeInfo {
  bytesPerElement: number;
  /** onnxruntime's name for the element type, shared by onnxruntime-web and onnxruntime-node. */
  ortType: 'bool' | 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'float16' | 'float32' | 'float64';
  allocate(length: number): TensorData;
  /** Stores one JSON value at `index`, or returns false when the value does not fit the datatype. */
  store(target: TensorData, index: number, value: unknown): boolean;
  /** Reads element `index` back as a JSON value. */
  load(source: TensorData, index: number): number | boolean;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * JSON numbers cannot be NaN or ±Infinity, yet a float tensor can hold them (a model's output often
 * does). In JSON they travel as these strings, both ways: the proto3 JSON mapping's spelling for float
 * fields (what KServe's v2 gRPC messages become in JSON). Triton writes them as bare tokens (`NaN`),
 * which are not JSON and which JSON.parse refuses; binary tensor data carries them as IEEE 754 bits.
 */
export const nonFiniteNames = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY } as const;
export type NonFiniteName = keyof typeof nonFiniteNames;

/** A float from JSON: a finite number, or one of the non-finite names; undefined for anything else. */
function floatFromJson(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && Object.hasOwn(nonFiniteNames, value)) return nonFiniteNames[value as NonFiniteName];
  return undefined;
}

/** A loaded element as JSON can carry it: non-finite floats by name. */
export function jsonValue(value: number | boolean): number | boolean | NonFiniteName {
  if (typeof value === 'boolean' || Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}
const FLOAT16_MAX = 65504;

function integerType(
  bytesPerElement: number,
  ortType: DatatypeInfo['ortType'],
  Ctor: new (length: number) => Uint8Array | Int8Array | Int16Array | Int32Array,
  min: number,
  max: number,
): DatatypeInfo {
  return {
    bytesPerElement,
    ortType,
    allocate: (length) => new Ctor(length),
    store(target, index, value) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return false;
      (target as Int32Array)[index] = value;
      return true;
    },
    load: (source, index) => (source as Int32Array)[index]!,
  };
}

const datatypeInfo: Record<Datatype, DatatypeInfo> = {
  BOOL: {
    bytesPerElement: 1,
    ortType: 'bool',
    allocate: (length) => new Uint8Array(length),
    store(target, index, value) {
      if (typeof value !== 'boolean') return false;
      (target as Uint8Array)[index] = value ? 1 : 0;
      return true;
    },
    load: (source, index) => (source as Uint8Array)[index] !== 0,
  },
  UINT8: integerType(1, 'uint8', Uint8Array, 0, 255),
  INT8: integerType(1, 'int8', Int8Array, -128, 127),
  INT16: integerType(2, 'int16', Int16Array, -32768, 32767),
  INT32: integerType(4, 'int32', Int32Array, -2147483648, 2147483647),
  INT64: {
    bytesPerElement: 8,
    ortType: 'int64',
    allocate: (length) => new BigInt64Array(length),
    // JSON numbers are doubles: past 2^53 an integer has already lost its value in transit, so
    // accepting it would compute on a number the caller did not send.
    store(target, index, value) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return false;
      (target as BigInt64Array)[index] = BigInt(value);
      return true;
    },
    load: (source, index) => Number((source as BigInt64Array)[index]!),
  },
  FP16: {
    bytesPerElement: 2,
    ortType: 'float16',
    allocate: (length) => new Uint16Array(length),
    // A finite value past the type's range would arrive as an infinity the caller did not send.
    store(target, index, value) {
      const float = floatFromJson(value);
      if (float === undefined || (Number.isFinite(float) && Math.abs(float) > FLOAT16_MAX)) return false;
      (target as Uint16Array)[index] = float16Bits(float);
      return true;
    },
    load: (source, index) => float16Value((source as Uint16Array)[index]!),
  },
  FP32: {
    bytesPerElement: 4,
    ortType: 'float32',
    allocate: (length) => new Float32Array(length),
    store(target, index, value) {
      const float = floatFromJson(value);
      if (float === undefined || (Number.isFinite(float) && Math.abs(float) > FLOAT32_MAX)) return false;
      (target as Float32Array)[index] = float;
      return true;
    },
    load: (source, index) => (source as Float32Array)[index]!,
  },
  FP64: {
    bytesPerElement: 8,
    ortType: 'float64',
    allocate: (length) => new Float64Array(length),
    store(target, index, value) {
      const float = floatFromJson(value);
      if (float === undefined) return false;
      (target as Float64Array)[index] = float;
      return true;
    },
    load: (source, index) => (source as Float64Array)[index]!,
  },
};

export function datatypeOf(datatype: Datatype): DatatypeInfo {
  return datatypeInfo[datatype];
}

const ortToDatatype = Object.fromEntries(
  Object.entries(datatypeInfo).map(([datatype, info]) => [info.ortType, datatype as Datatype]),
) as Record<string, Datatype>;

/** The protocol datatype for an onnxruntime element type, or undefined for one the protocol lacks. */
export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return ortToDatatype[ortType];
}

/** Rounds a non-negative number to the nearest integer, ties to even, as IEEE 754 does by default. */
function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  return fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

/**
 * number → IEEE 754 binary16 bits, rounded once, to nearest even, from the double itself (going
 * through binary32 first would round twice and miss by one unit near halfway points), subnormals
 * included. Scaling by powers of two is exact, so each step below is exact but the one rounding.
 */
export function float16Bits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  if (Number.isNaN(value)) return 0x7e00;
  const magnitude = Math.abs(value);
  if (magnitude === Number.POSITIVE_INFINITY) return sign | 0x7c00;
  // Below 2^-14 the grid is the subnormals' fixed step of 2^-24; a result of 1024 steps is 2^-14,
  // whose bits (exponent 1, mantissa 0) are 1024 too.
  if (magnitude < 2 ** -14) return sign | roundHalfToEven(magnitude * 2 ** 24);
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 may be off by one next to a power of two; correct it exactly.
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  let significand = roundHalfToEven(magnitude * 2 ** (10 - exponent));
  if (significand === 2048) {
    significand = 1024;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | (significand - 1024);
}

/** IEEE 754 binary16 bits → number. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
