// The arithmetic of quantization, shared by every mode: per-channel symmetric weights, asymmetric
// activation ranges, float16 conversion. Rounding is half to even, as QuantizeLinear's.

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface PerChannelWeights {
  /** One scale per channel along `axis` (one in all when axis is undefined). */
  scales: Float32Array;
  /** q = round(w / scale) in [-127, 127]: symmetric, so the zero point is 0. */
  values: Int8Array;
}

/**
 * Symmetric int8 quantization of `data` (shape `dims`) with one scale per index of `axis`, or one
 * scale for the whole tensor when `axis` is undefined. [-127, 127], not -128, keeps the grid symmetric.
 */
export function quantizePerChannel(data: Float32Array, dims: readonly number[], axis: number | undefined): PerChannelWeights {
  const channels = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? data.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => (axis === undefined ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(data[i]!));
  }
  const scales = maxAbs.map((m) => (m > 0 ? m / 127 : 1));
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    values[i] = Math.max(-127, Math.min(127, roundHalfEven(data[i]! / scales[channelOf(i)]!)));
  }
  return { scales, values };
}

/** The same grid stored as uint8 with zero point 128, for the integer ops that want uint8 weights. */
export function toUint8Grid(values: Int8Array): Uint8Array {
  return Uint8Array.from(values, (v) => v + 128);
}

export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

/** Asymmetric uint8 parameters for a range that always includes 0, as QuantizeLinear needs. */
export function uint8Params(min: number, max: number): ActivationParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zeroPoint = Math.max(0, Math.min(255, roundHalfEven(-lo / scale)));
  return { scale: Math.fround(scale), zeroPoint };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE float16 bits of a float32 value, round to nearest even, saturating at ±65504. */
export function float16Bits(value: number): number {
  f32[0] = Math.max(-65504, Math.min(65504, value));
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7bff;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++;
  return sign | r;
}

export function toFloat16(data: Float32Array): Uint16Array {
  return Uint16Array.from(data, float16Bits);
}
