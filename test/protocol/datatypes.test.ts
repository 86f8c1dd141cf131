import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datatypeFromOrt, datatypeOf, datatypes, float16Bits, float16Value } from '../../protocol/datatypes.ts';

/** Node's own binary16 conversion (DataView.setFloat16, ES2025), where the runtime has it. */
const nativeFloat16Bits: ((value: number) => number) | undefined =
  typeof (DataView.prototype as { setFloat16?: unknown }).setFloat16 === 'function'
    ? (value) => {
        const view = new DataView(new ArrayBuffer(2)) as DataView & { setFloat16(offset: number, value: number): void };
        view.setFloat16(0, value);
        return view.getUint16(0);
      }
    : undefined;

describe('float16Bits / float16Value', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [1023 * 2 ** -24, 0x03ff],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
  ])('encodes %s exactly as %i', (value, bits) => {
    expect(float16Bits(value)).toBe(bits);
    expect(Object.is(float16Value(bits), value)).toBe(true);
  });

  it.each([
    ['a tie between 1 and the next half, to even (down)', 1 + 2 ** -11, 0x3c00],
    ['a tie between the next two halves, to even (up)', 1 + 3 * 2 ** -11, 0x3c02],
    ['just above a tie, up', 1 + 2 ** -11 + 2 ** -40, 0x3c01],
    ['half the smallest subnormal, to even zero', 2 ** -25, 0x0000],
    ['just above half the smallest subnormal, up', 2 ** -25 + 2 ** -60, 0x0001],
    ['a subnormal tie, to even', 3 * 2 ** -25, 0x0002],
    ['the largest subnormal plus half a step, up into the normals', 1023.5 * 2 ** -24, 0x0400],
    ['below 65520, down to the largest finite', 65519.99, 0x7bff],
    ['65520, the tie past the largest finite, to infinity', 65520, 0x7c00],
    ['a number far below the smallest subnormal, to zero', 1e-300, 0x0000],
    ['a negative number far below, to negative zero', -1e-300, 0x8000],
  ])('rounds %s', (_what, value, bits) => {
    expect(float16Bits(value)).toBe(bits);
  });

  it('encodes NaN as a NaN', () => {
    expect(Number.isNaN(float16Value(float16Bits(Number.NaN)))).toBe(true);
  });

  it('round-trips every one of the 65536 bit patterns that is not NaN', () => {
    for (let bits = 0; bits <= 0xffff; bits++) {
      const value = float16Value(bits);
      if (Number.isNaN(value)) continue;
      expect(float16Bits(value)).toBe(bits);
    }
  });

  it('rounds any double to the nearest binary16, ties to even (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (value) => {
        const bits = float16Bits(value);
        const rounded = float16Value(bits);
        if (!Number.isFinite(rounded)) {
          expect(Math.abs(value)).toBeGreaterThanOrEqual(65520);
          return;
        }
        // Nothing representable lies strictly closer to `value` than the result does.
        const error = Math.abs(rounded - value);
        for (const neighbour of [bits - 1, bits + 1]) {
          if ((neighbour & 0x7fff) > 0x7bff || neighbour < 0 || (neighbour & 0x8000) !== (bits & 0x8000)) continue;
          const other = Math.abs(float16Value(neighbour) - value);
          expect(other).toBeGreaterThanOrEqual(error);
          if (other === error) expect(bits & 1).toBe(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.runIf(nativeFloat16Bits)('agrees with DataView.setFloat16 on any double (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true }),
          fc.double({ min: -70000, max: 70000, noNaN: true }),
          fc.double({ min: -1e-4, max: 1e-4, noNaN: true }),
        ),
        (value) => {
          expect(float16Bits(value)).toBe(nativeFloat16Bits!(value));
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('datatypeOf', () => {
  it.each([
    ['BOOL', 1, Uint8Array],
    ['UINT8', 1, Uint8Array],
    ['INT8', 1, Int8Array],
    ['INT16', 2, Int16Array],
    ['INT32', 4, Int32Array],
    ['INT64', 8, BigInt64Array],
    ['FP16', 2, Uint16Array],
    ['FP32', 4, Float32Array],
    ['FP64', 8, Float64Array],
  ] as const)('stores %s in %i-byte elements', (datatype, bytes, Ctor) => {
    const info = datatypeOf(datatype);
    expect(info.bytesPerElement).toBe(bytes);
    const data = info.allocate(3);
    expect(data).toBeInstanceOf(Ctor);
    expect(data.byteLength).toBe(3 * bytes);
  });

  it('maps every datatype to an onnxruntime type and back', () => {
    for (const datatype of datatypes) expect(datatypeFromOrt(datatypeOf(datatype).ortType)).toBe(datatype);
    expect(datatypeFromOrt('string')).toBeUndefined();
  });

  it.each([
    ['BOOL', [true, false], [1, 0, 'true', null]],
    ['UINT8', [0, 255], [-1, 256, 1.5, '1', true]],
    ['INT8', [-128, 127], [128, -129, 0.5]],
    ['INT16', [-32768, 32767], [32768, -32769, 1.25]],
    ['INT32', [-(2 ** 31), 2 ** 31 - 1], [2 ** 31, -(2 ** 31) - 1, 1e-9]],
    ['INT64', [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0], [2 ** 53, -(2 ** 53), 1.5, 1e300]],
    ['FP16', [65504, -65504, 1e-10, 0], [65504.5, -65505, Number.POSITIVE_INFINITY, Number.NaN, '1']],
    ['FP32', [3.4028234663852886e38, -1e-45], [3.5e38, -1e39, Number.NaN]],
    ['FP64', [Number.MAX_VALUE, Number.MIN_VALUE], [Number.POSITIVE_INFINITY, Number.NaN, null]],
  ] as const)('%s accepts its range and refuses what does not fit', (datatype, accepted, refused) => {
    const info = datatypeOf(datatype);
    const data = info.allocate(1);
    for (const value of accepted) expect(info.store(data, 0, value), `accepts ${value}`).toBe(true);
    for (const value of refused) expect(info.store(data, 0, value), `refuses ${String(value)}`).toBe(false);
  });

  it('reads back what it stored, for values that fit (property)', () => {
    const cases = fc.oneof(
      fc.tuple(fc.constant('BOOL' as const), fc.boolean()),
      fc.tuple(fc.constant('UINT8' as const), fc.integer({ min: 0, max: 255 })),
      fc.tuple(fc.constant('INT8' as const), fc.integer({ min: -128, max: 127 })),
      fc.tuple(fc.constant('INT16' as const), fc.integer({ min: -32768, max: 32767 })),
      fc.tuple(fc.constant('INT32' as const), fc.integer()),
      fc.tuple(fc.constant('INT64' as const), fc.maxSafeInteger()),
      fc.tuple(
        fc.constant('FP32' as const),
        fc.float({ noNaN: true, noDefaultInfinity: true }).map((value) => (Object.is(value, -0) ? 0 : value)),
      ),
      fc.tuple(fc.constant('FP64' as const), fc.double({ noNaN: true, noDefaultInfinity: true })),
    );
    fc.assert(
      fc.property(cases, ([datatype, value]) => {
        const info = datatypeOf(datatype);
        const data = info.allocate(1);
        expect(info.store(data, 0, value)).toBe(true);
        expect(info.load(data, 0)).toBe(value);
      }),
    );
  });
});
