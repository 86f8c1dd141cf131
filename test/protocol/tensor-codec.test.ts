import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Datatype, datatypes } from '../../protocol/datatypes.ts';
import { HttpError, InvalidInput, PayloadTooLarge } from '../../protocol/errors.ts';
import type { RequestInput, TensorMetadata } from '../../protocol/schemas.ts';
import { decodeTensor, encodeTensor } from '../../protocol/tensor-codec.ts';
import { thrownHttpError } from '../support/errors.ts';
import { checkShape, type ShapeLimits } from '../../protocol/shape.ts';

function input(datatype: string, shape: unknown[], data: unknown[]): RequestInput {
  return { name: 'x', datatype, shape: shape as number[], data };
}

function spec(datatype: Datatype, shape: number[]): TensorMetadata {
  return { name: 'x', datatype, shape };
}

const rejection = thrownHttpError;

const limits = (maxElements: number, allowEmpty = false): ShapeLimits => ({ maxElements, allowEmpty });

describe('checkShape', () => {
  it('returns the element count of a shape that matches the declaration', () => {
    expect(checkShape('x', [2, 3, 4], [-1, 3, -1], limits(100))).toBe(24);
    expect(checkShape('x', [], [], limits(1))).toBe(1);
  });

  it('rejects a different rank', () => {
    expect(rejection(() => checkShape('x', [2, 3], [-1], limits(100))).message).toMatch(/rank 2; the model expects rank 1/);
  });

  it.each([[-1], [1.5], ['2'], [null], [Number.NaN], [Number.POSITIVE_INFINITY], [1e300], [2 ** 53], [2 ** 53 + 2], [-0.5]])(
    'rejects the size %s, which is not a safe non-negative integer',
    (size) => {
      const err = rejection(() => checkShape('x', [0, size], [-1, -1], limits(100, true)));
      expect(err).toBeInstanceOf(InvalidInput);
      expect(err.message).toMatch(/invalid size/);
    },
  );

  it('rejects a size the model fixes differently', () => {
    expect(rejection(() => checkShape('x', [1, 4], [1, 3], limits(100))).message).toMatch(/size 4 at dimension 1; the model expects 3/);
  });

  it('rejects more elements than allowed with 413, however large the product', () => {
    expect(rejection(() => checkShape('x', [11], [-1], limits(10)))).toBeInstanceOf(PayloadTooLarge);
    expect(rejection(() => checkShape('x', [1e9, 1e9, 1e9], [-1, -1, -1], limits(10)))).toBeInstanceOf(PayloadTooLarge);
    const huge = Number.MAX_SAFE_INTEGER;
    expect(rejection(() => checkShape('x', [huge, huge, 3], [-1, -1, -1], limits(huge)))).toBeInstanceOf(PayloadTooLarge);
    expect(checkShape('x', [2 ** 26, 2 ** 26], [-1, -1], limits(huge))).toBe(2 ** 52);
  });

  it('refuses a request tensor with a dimension of 0 (an empty batch can abort a graph natively)', () => {
    for (const shape of [
      [0, 576],
      [2, 0, 128],
      [1, 0],
    ]) {
      const err = rejection(() =>
        checkShape(
          'x',
          shape,
          shape.map(() => -1),
          limits(1000),
        ),
      );
      expect(err).toBeInstanceOf(InvalidInput);
      expect(err.message).toMatch(/size 0 at dimension/);
    }
  });

  it('allows an empty tensor where empty is allowed (an answer), but no size past the element limit', () => {
    expect(checkShape('x', [0, 3], [-1, -1], limits(10, true))).toBe(0);
    expect(rejection(() => checkShape('x', [0, 1e12], [-1, -1], limits(10, true)))).toBeInstanceOf(PayloadTooLarge);
  });

  it('answers any shape with a count or an HttpError, never anything else (property)', () => {
    const size = fc.oneof(
      fc.integer({ min: -3, max: 5 }),
      fc.constantFrom(0, 1e300, 2 ** 53 + 2, 2 ** 53, -1e300, 0.5, Number.MAX_SAFE_INTEGER, 1e9),
      fc.double(),
    );
    fc.assert(
      fc.property(fc.array(size, { maxLength: 5 }), fc.integer({ min: 1, max: 2 ** 30 }), fc.boolean(), (shape, max, allowEmpty) => {
        try {
          const elements = checkShape(
            'x',
            shape,
            shape.map(() => -1),
            limits(max, allowEmpty),
          );
          expect(Number.isSafeInteger(elements)).toBe(true);
          expect(elements).toBeLessThanOrEqual(max);
          expect(elements).toBe(shape.reduce<number>((product, dim) => product * (dim as number), 1));
          for (const dim of shape) expect(Number.isSafeInteger(dim) && (dim as number) <= max).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(HttpError);
        }
      }),
    );
  });
});

describe('decodeTensor', () => {
  it('decodes flat row-major data into the datatype’s typed array', () => {
    const tensor = decodeTensor(input('FP32', [2, 2], [1, 2, 3, 4.5]), spec('FP32', [-1, 2]), limits(100));
    expect(tensor).toEqual({ name: 'x', datatype: 'FP32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4.5]) });
  });

  it('decodes data nested to the tensor’s rank', () => {
    const tensor = decodeTensor(input('INT32', [2, 1, 3], [[[1, 2, 3]], [[4, 5, 6]]]), spec('INT32', [-1, 1, 3]), limits(100));
    expect([...tensor.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a tensor whose data length differs from its shape', () => {
    expect(rejection(() => decodeTensor(input('FP32', [3], [1, 2]), spec('FP32', [-1]), limits(100))).message).toMatch(
      /2 data values; shape \[3\] needs 3/,
    );
    expect(rejection(() => decodeTensor(input('FP32', [1], [1, 2]), spec('FP32', [-1]), limits(100)))).toBeInstanceOf(InvalidInput);
  });

  it('rejects nested data whose rows disagree with the shape', () => {
    expect(rejection(() => decodeTensor(input('FP32', [2, 2], [[1, 2], [3]]), spec('FP32', [-1, -1]), limits(100))).message).toMatch(
      /1 entries at dimension 1/,
    );
    expect(rejection(() => decodeTensor(input('FP32', [2, 2], [[1, 2], 3]), spec('FP32', [-1, -1]), limits(100))).message).toMatch(
      /mixes nested arrays and values/,
    );
    expect(rejection(() => decodeTensor(input('FP32', [2, 2], [[1, 2]]), spec('FP32', [-1, -1]), limits(100)))).toBeInstanceOf(
      InvalidInput,
    );
  });

  it('rejects data nested deeper than the shape', () => {
    expect(rejection(() => decodeTensor(input('FP32', [2], [[1], [2]]), spec('FP32', [-1]), limits(100)))).toBeInstanceOf(InvalidInput);
  });

  it('rejects negative, non-integer and non-numeric shapes', () => {
    for (const shape of [[-2], [0.5], ['3'], [[1]]]) {
      expect(rejection(() => decodeTensor(input('FP32', shape, []), spec('FP32', [-1]), limits(100)))).toBeInstanceOf(InvalidInput);
    }
  });

  it('rejects a tensor past the element limit before looking at its data', () => {
    expect(rejection(() => decodeTensor(input('UINT8', [1e9], []), spec('UINT8', [-1]), limits(1000)))).toBeInstanceOf(PayloadTooLarge);
  });

  it('rejects an unknown datatype, and one the model does not declare', () => {
    expect(rejection(() => decodeTensor(input('BYTES', [1], ['a']), spec('FP32', [-1]), limits(100))).message).toMatch(
      /unknown datatype 'BYTES'/,
    );
    expect(rejection(() => decodeTensor(input('FP64', [1], [1]), spec('FP32', [-1]), limits(100))).message).toMatch(
      /datatype FP64; the model expects FP32/,
    );
  });

  it.each([
    ['INT8', 128],
    ['INT8', -129],
    ['UINT8', -1],
    ['UINT8', 256],
    ['INT16', 40000],
    ['INT32', 2 ** 31],
    ['INT32', 1.5],
    ['UINT8', 0.1],
    ['INT64', 2 ** 53],
    ['INT64', 2 ** 60],
    ['FP16', 65505],
    ['FP16', 70000],
    ['FP32', 1e39],
    ['BOOL', 1],
    ['BOOL', 'true'],
    ['FP32', '1.0'],
    ['FP64', null],
  ] as const)('rejects %s value %s', (datatype, value) => {
    const fits = datatype === 'BOOL' ? false : 0;
    const err = rejection(() => decodeTensor(input(datatype, [2], [fits, value]), spec(datatype, [-1]), limits(100)));
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toMatch(new RegExp(`at index 1 does not fit datatype ${datatype}`));
  });

  it('keeps INT64 values up to 2^53 - 1 exactly', () => {
    const tensor = decodeTensor(input('INT64', [2], [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]), spec('INT64', [-1]), limits(100));
    expect([...tensor.data]).toEqual([2n ** 53n - 1n, -(2n ** 53n - 1n)]);
  });

  it('stores FP16 as its binary16 bits', () => {
    const tensor = decodeTensor(input('FP16', [3], [1, -2, 65504]), spec('FP16', [-1]), limits(100));
    expect([...tensor.data]).toEqual([0x3c00, 0xc000, 0x7bff]);
  });
});

describe('non-finite floats', () => {
  it('accepts NaN and ±Infinity by name for every float datatype, and still refuses finite values past the range', () => {
    for (const datatype of ['FP16', 'FP32', 'FP64'] as const) {
      const tensor = decodeTensor(input(datatype, [3], ['NaN', 'Infinity', '-Infinity']), spec(datatype, [-1]), limits(10));
      expect(encodeTensor(tensor).data).toEqual(['NaN', 'Infinity', '-Infinity']);
    }
    expect(rejection(() => decodeTensor(input('FP32', [1], ['nan']), spec('FP32', [-1]), limits(10)))).toBeInstanceOf(InvalidInput);
    expect(rejection(() => decodeTensor(input('INT32', [1], ['NaN']), spec('INT32', [-1]), limits(10)))).toBeInstanceOf(InvalidInput);
  });

  it('writes non-finite outputs by name, so that the JSON reads back the same values', () => {
    const encoded = encodeTensor({ name: 'y', datatype: 'FP32', shape: [4], data: new Float32Array([Number.NaN, 1, Infinity, -Infinity]) });
    const back = decodeTensor(JSON.parse(JSON.stringify(encoded)), spec('FP32', [-1]), limits(10));
    expect([...back.data]).toEqual([Number.NaN, 1, Infinity, -Infinity]);
  });
});

describe('encodeTensor', () => {
  it('encodes flat JSON values, BOOL as booleans and FP16 as numbers', () => {
    expect(encodeTensor({ name: 'b', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) })).toEqual({
      name: 'b',
      datatype: 'BOOL',
      shape: [2],
      data: [true, false],
    });
    expect(encodeTensor({ name: 'h', datatype: 'FP16', shape: [1, 1], data: new Uint16Array([0x3800]) }).data).toEqual([0.5]);
    expect(encodeTensor({ name: 'l', datatype: 'INT64', shape: [1], data: new BigInt64Array([-5n]) }).data).toEqual([-5]);
  });
});

/** JSON values that fit each datatype. */
const valueFitting: Record<Datatype, fc.Arbitrary<number | boolean>> = {
  BOOL: fc.boolean(),
  UINT8: fc.integer({ min: 0, max: 255 }),
  INT8: fc.integer({ min: -128, max: 127 }),
  INT16: fc.integer({ min: -32768, max: 32767 }),
  INT32: fc.integer(),
  INT64: fc.maxSafeInteger(),
  // Values exactly representable in binary16, so that the round trip is exact.
  FP16: fc
    .integer({ min: 0, max: 0xffff })
    .filter((bits) => (bits & 0x7c00) !== 0x7c00)
    .map((bits) => {
      const sign = bits & 0x8000 ? -1 : 1;
      const exponent = (bits >>> 10) & 0x1f;
      const mantissa = bits & 0x3ff;
      return exponent === 0 ? sign * mantissa * 2 ** -24 : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
    }),
  FP32: fc.float({ noNaN: true, noDefaultInfinity: true }),
  FP64: fc.double({ noNaN: true, noDefaultInfinity: true }),
};

describe('decodeTensor and encodeTensor (properties)', () => {
  it('round-trips any values that fit any datatype, flat or nested', () => {
    const cases = fc
      .record({
        datatype: fc.constantFrom(...datatypes),
        shape: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        nested: fc.boolean(),
      })
      .chain(({ datatype, shape, nested }) => {
        const length = shape.reduce((a, b) => a * b, 1);
        return fc.tuple(
          fc.constant(datatype),
          fc.constant(shape),
          fc.constant(nested),
          fc.array(valueFitting[datatype], { minLength: length, maxLength: length }),
        );
      });
    fc.assert(
      fc.property(cases, ([datatype, shape, nested, values]) => {
        const nest = (flat: unknown[], dims: number[]): unknown[] => {
          if (dims.length <= 1) return flat;
          const rowLength = flat.length / dims[0]!;
          return Array.from({ length: dims[0]! }, (_, row) => nest(flat.slice(row * rowLength, (row + 1) * rowLength), dims.slice(1)));
        };
        const tensor = decodeTensor(
          input(datatype, shape, nested ? nest(values, shape) : values),
          spec(
            datatype,
            shape.map(() => -1),
          ),
          limits(1000),
        );
        const encoded = encodeTensor(tensor);
        expect(encoded.shape).toEqual(shape);
        expect(encoded.data).toEqual(values);
      }),
    );
  });

  it('throws nothing but HttpError for any JSON as input', () => {
    fc.assert(
      fc.property(
        fc.record({
          datatype: fc.oneof(fc.constantFrom(...datatypes), fc.string()),
          shape: fc.array(fc.jsonValue(), { maxLength: 4 }),
          data: fc.array(fc.jsonValue(), { maxLength: 8 }),
        }),
        fc.constantFrom(...datatypes),
        fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 4 }),
        (raw, declaredType, declaredShape) => {
          try {
            decodeTensor({ name: 'x', ...raw } as RequestInput, spec(declaredType, declaredShape), limits(64));
          } catch (err) {
            expect(err).toBeInstanceOf(HttpError);
          }
        },
      ),
    );
  });
});
