import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bodyHeaders,
  decodeInferResponseBody,
  encodeBinaryInferRequest,
  encodeInferResponse,
  inferenceHeaderContentLength,
  parseInferRequestBody,
  wantsBinaryOutput,
} from '../../protocol/binary.ts';
import { type Datatype, datatypes, float16Bits } from '../../protocol/datatypes.ts';
import { HttpError, InvalidInput, PayloadTooLarge } from '../../protocol/errors.ts';
import { protocolExtensions } from '../../protocol/server-info.ts';
import { decodeTensor, type Tensor, tensorBytes } from '../../protocol/tensor-codec.ts';
import type { ShapeLimits } from '../../protocol/shape.ts';
import { thrownHttpError } from '../support/errors.ts';

// These tests are about framing: an empty tensor frames like any other (refusing one is checkShape's job).
const requestLimits = (maxElements: number): ShapeLimits => ({ maxElements, allowEmpty: true });

const encoder = new TextEncoder();

/** One small tensor of each datatype, with values at the edges of its range. */
const samples: Tensor[] = [
  { name: 'bool', datatype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
  { name: 'uint8', datatype: 'UINT8', shape: [3], data: new Uint8Array([0, 128, 255]) },
  { name: 'int8', datatype: 'INT8', shape: [3], data: new Int8Array([-128, 0, 127]) },
  { name: 'int16', datatype: 'INT16', shape: [1, 3], data: new Int16Array([-32768, 1, 32767]) },
  { name: 'int32', datatype: 'INT32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) },
  { name: 'int64', datatype: 'INT64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n]) },
  { name: 'fp16', datatype: 'FP16', shape: [3], data: new Uint16Array([float16Bits(-65504), float16Bits(2 ** -24), float16Bits(0.5)]) },
  { name: 'fp32', datatype: 'FP32', shape: [2, 1], data: new Float32Array([Math.fround(Math.PI), -0]) },
  { name: 'fp64', datatype: 'FP64', shape: [2], data: new Float64Array([Math.E, Number.MIN_VALUE]) },
];

/** What a model that accepts `tensor` with any sizes would declare. */
function anySizeSpec(tensor: Pick<Tensor, 'name' | 'datatype' | 'shape'>) {
  return { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape.map(() => -1) };
}

function expectSameTensor(actual: Tensor, expected: Tensor): void {
  expect({ name: actual.name, datatype: actual.datatype, shape: actual.shape }).toEqual({
    name: expected.name,
    datatype: expected.datatype,
    shape: expected.shape,
  });
  expect(actual.data.constructor).toBe(expected.data.constructor);
  expect(Buffer.from(tensorBytes(actual))).toEqual(Buffer.from(tensorBytes(expected)));
}

/** A binary request body built by hand, so tests can make its header say anything. */
function handBuilt(header: unknown, ...parts: number[][]): { body: Uint8Array; headerLength: string } {
  const json = encoder.encode(JSON.stringify(header));
  const body = new Uint8Array([...json, ...parts.flat()]);
  return { body, headerLength: String(json.length) };
}

function fp32Input(shape: number[], binaryDataSize: unknown) {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape, parameters: { binary_data_size: binaryDataSize } }] };
}

function decodeAll(body: Uint8Array, headerLength: string | null, maxElements = 1_000_000): Tensor[] {
  return parseInferRequestBody(body, headerLength).inputs.map((input) =>
    decodeTensor(input, anySizeSpec(input as Tensor), requestLimits(maxElements)),
  );
}

const thrown = thrownHttpError;

describe('binary request bodies', () => {
  it('round-trips every datatype through encodeBinaryInferRequest and decodeTensor', () => {
    const { body, headerLength } = encodeBinaryInferRequest({ id: 'r1', inputs: samples });
    const parsed = parseInferRequestBody(body, String(headerLength));
    expect(parsed.id).toBe('r1');
    const decoded = parsed.inputs.map((input, index) => decodeTensor(input, anySizeSpec(samples[index]!), requestLimits(1000)));
    decoded.forEach((tensor, index) => expectSameTensor(tensor, samples[index]!));
  });

  it('frames the header as the spec says: JSON of the stated length, then the bytes in input order', () => {
    const a: Tensor = { name: 'a', datatype: 'INT16', shape: [2], data: new Int16Array([1, -2]) };
    const b: Tensor = { name: 'b', datatype: 'UINT8', shape: [1], data: new Uint8Array([7]) };
    const { body, headerLength } = encodeBinaryInferRequest({ inputs: [a, b], binaryOutputs: true });
    const header = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength)));
    expect(header).toEqual({
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'a', datatype: 'INT16', shape: [2], parameters: { binary_data_size: 4 } },
        { name: 'b', datatype: 'UINT8', shape: [1], parameters: { binary_data_size: 1 } },
      ],
    });
    expect([...body.subarray(headerLength)]).toEqual([1, 0, 0xfe, 0xff, 7]);
    expect(bodyHeaders({ body, headerLength })).toEqual({
      'content-type': 'application/octet-stream',
      [inferenceHeaderContentLength]: String(headerLength),
    });
  });

  it('decodes data at any offset of the body, aligned or not', () => {
    const offsets = new Set<number>();
    for (const id of ['', 'a', 'ab', 'abc']) {
      const { body, headerLength } = handBuilt({ id, ...fp32Input([1], 4) }, [0, 0, 0x80, 0x3f]);
      offsets.add(Number(headerLength) % 4);
      expect([...(decodeAll(body, headerLength)[0]!.data as Float32Array)]).toEqual([1]);
    }
    expect(offsets.size).toBe(4);
  });

  it('reads a body without the header length as plain JSON, mixing in no binary data', () => {
    const json = encoder.encode(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: [1, 2] }] }));
    expect([...(decodeAll(json, null)[0]!.data as Int32Array)]).toEqual([1, 2]);
  });

  it('accepts JSON and binary inputs side by side', () => {
    const { body, headerLength } = handBuilt(
      {
        inputs: [
          { name: 'j', datatype: 'INT8', shape: [2], data: [-1, 1] },
          { name: 'b', datatype: 'INT8', shape: [2], parameters: { binary_data_size: 2 } },
        ],
      },
      [0xff, 0x01],
    );
    const [json, binary] = decodeAll(body, headerLength);
    expect([...json!.data]).toEqual([-1, 1]);
    expect([...binary!.data]).toEqual([-1, 1]);
  });

  it('rejects a binary size shorter than the shape needs', () => {
    const { body, headerLength } = handBuilt(fp32Input([4], 8), [1, 2, 3, 4, 5, 6, 7, 8]);
    const err = thrown(() => decodeAll(body, headerLength));
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toMatch(/8 bytes of binary data; shape \[4\] of FP32 needs 16/);
  });

  it('rejects a binary size longer than the shape needs', () => {
    const { body, headerLength } = handBuilt(fp32Input([1], 8), [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(thrown(() => decodeAll(body, headerLength))).toBeInstanceOf(InvalidInput);
  });

  it('rejects declared sizes that add up to more or fewer bytes than follow the header', () => {
    const short = handBuilt(fp32Input([4], 16), [1, 2, 3, 4]);
    expect(thrown(() => parseInferRequestBody(short.body, short.headerLength)).message).toMatch(/declare 16 bytes .* body has 4/);
    const long = handBuilt(fp32Input([1], 4), [1, 2, 3, 4, 5]);
    expect(thrown(() => parseInferRequestBody(long.body, long.headerLength))).toBeInstanceOf(InvalidInput);
  });

  it('rejects binary_data_size in a request without the header length, naming the header', () => {
    const headerOnly = handBuilt(fp32Input([1], 4));
    expect(thrown(() => parseInferRequestBody(headerOnly.body, null)).message).toMatch(/no inference-header-content-length header/);
    const withData = handBuilt(fp32Input([1], 4), [0, 0, 0x80, 0xff]);
    expect(thrown(() => parseInferRequestBody(withData.body, null)).message).toMatch(/needs the inference-header-content-length header/);
  });

  it('rejects bytes after a JSON header that declares no binary input', () => {
    const { body, headerLength } = handBuilt({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [1], data: [1] }] }, [9]);
    expect(thrown(() => parseInferRequestBody(body, headerLength))).toBeInstanceOf(InvalidInput);
  });

  it('rejects a huge declared size before looking at the body', () => {
    const { body, headerLength } = handBuilt(fp32Input([1_000_000_000], 4_000_000_000), [1, 2, 3, 4]);
    expect(thrown(() => parseInferRequestBody(body, headerLength))).toBeInstanceOf(InvalidInput);
  });

  it('rejects a shape past the element limit before allocating it, even when the bytes are all there', () => {
    const { body, headerLength } = handBuilt(fp32Input([64], 256), new Array(256).fill(0));
    expect(thrown(() => decodeAll(body, headerLength, 10))).toBeInstanceOf(PayloadTooLarge);
  });

  it.each([[-4], [1.5], ['4'], [true], [1e300], [Number.MAX_SAFE_INTEGER + 2]])('rejects binary_data_size %s', (size) => {
    const { body, headerLength } = handBuilt(fp32Input([1], size), [0, 0, 0x80, 0x3f]);
    const err = thrown(() => parseInferRequestBody(body, headerLength));
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.status).toBe(400);
  });

  it('rejects a header length past the end of the body', () => {
    const { body } = handBuilt(fp32Input([1], 4), [0, 0, 0x80, 0x3f]);
    const err = thrown(() => parseInferRequestBody(body, String(body.length + 1)));
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toMatch(/body has only/);
  });

  it.each(['-1', '1.5', 'abc', '', '1e3', '0x10'])('rejects the header length %j', (value) => {
    const { body } = handBuilt(fp32Input([1], 4), [0, 0, 0x80, 0x3f]);
    expect(thrown(() => parseInferRequestBody(body, value))).toBeInstanceOf(InvalidInput);
  });

  it('rejects a header length that cuts the JSON short', () => {
    const { body, headerLength } = handBuilt(fp32Input([1], 4), [0, 0, 0x80, 0x3f]);
    expect(thrown(() => parseInferRequestBody(body, String(Number(headerLength) - 3)))).toBeInstanceOf(InvalidInput);
  });

  it('rejects an input with both data and binary_data_size, and one with neither', () => {
    const both = handBuilt({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [1], data: [1], parameters: { binary_data_size: 1 } }] }, [1]);
    expect(thrown(() => parseInferRequestBody(both.body, both.headerLength)).message).toMatch(/both data and binary_data_size/);
    const neither = handBuilt({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [1] }] });
    expect(thrown(() => parseInferRequestBody(neither.body, neither.headerLength)).message).toMatch(/neither data nor binary_data_size/);
  });

  it('rejects a BOOL byte other than 0 or 1', () => {
    const { body, headerLength } = handBuilt(
      { inputs: [{ name: 'x', datatype: 'BOOL', shape: [2], parameters: { binary_data_size: 2 } }] },
      [1, 2],
    );
    expect(thrown(() => decodeAll(body, headerLength)).message).toMatch(/byte 2 at index 1 is not a BOOL/);
  });

  it('rejects a binary input whose datatype is not the model’s', () => {
    const { body, headerLength } = encodeBinaryInferRequest({ inputs: [samples[1]!] });
    const [input] = parseInferRequestBody(body, String(headerLength)).inputs;
    expect(thrown(() => decodeTensor(input!, { name: 'uint8', datatype: 'INT8', shape: [-1] }, requestLimits(100)))).toBeInstanceOf(
      InvalidInput,
    );
  });
});

describe('binary responses', () => {
  const head = { model_name: 'm', model_version: '1', id: 'abc' };

  it('answers JSON unless binary output is asked for', () => {
    const encoded = encodeInferResponse(head, samples, {});
    expect(encoded.headerLength).toBeUndefined();
    expect(bodyHeaders(encoded)).toEqual({ 'content-type': 'application/json' });
    const parsed = JSON.parse(new TextDecoder().decode(encoded.body));
    expect(parsed.outputs[0]).toEqual({ name: 'bool', datatype: 'BOOL', shape: [2, 2], data: [true, false, false, true] });
  });

  it('round-trips every datatype as binary output with binary_data_output', () => {
    const encoded = encodeInferResponse(head, samples, { parameters: { binary_data_output: true } });
    expect(encoded.headerLength).toBeTypeOf('number');
    const decoded = decodeInferResponseBody(encoded.body, String(encoded.headerLength));
    expect(decoded.header).toMatchObject(head);
    for (const output of decoded.header.outputs) {
      expect(output.data).toBeUndefined();
      expect(output.parameters?.binary_data_size).toBeTypeOf('number');
    }
    decoded.outputs.forEach((tensor, index) => expectSameTensor(tensor, samples[index]!));
  });

  it('lets an output’s binary_data override the request’s binary_data_output', () => {
    const request = {
      parameters: { binary_data_output: true },
      outputs: [{ name: 'int8', parameters: { binary_data: false } }, { name: 'fp32' }],
    };
    expect(wantsBinaryOutput(request, 'int8')).toBe(false);
    expect(wantsBinaryOutput(request, 'fp32')).toBe(true);
    expect(wantsBinaryOutput({ outputs: [{ name: 'fp32', parameters: { binary_data: true } }] }, 'fp32')).toBe(true);
    expect(wantsBinaryOutput({}, 'fp32')).toBe(false);

    const encoded = encodeInferResponse(head, samples, request);
    const decoded = decodeInferResponseBody(encoded.body, String(encoded.headerLength));
    expect(decoded.header.outputs.find((o) => o.name === 'int8')!.data).toEqual([-128, 0, 127]);
    decoded.outputs.forEach((tensor, index) => expectSameTensor(tensor, samples[index]!));
  });

  it('reads a JSON-only response', () => {
    const encoded = encodeInferResponse(
      head,
      samples.filter((t) => t.datatype !== 'INT64'),
    );
    const decoded = decodeInferResponseBody(encoded.body, null);
    expect(decoded.outputs.map((t) => t.name)).toEqual(samples.filter((t) => t.datatype !== 'INT64').map((t) => t.name));
  });

  it('rejects a response whose sizes lie', () => {
    const encoded = encodeInferResponse(head, [samples[7]!], { parameters: { binary_data_output: true } });
    const truncated = encoded.body.subarray(0, encoded.body.length - 1);
    expect(thrown(() => decodeInferResponseBody(truncated, String(encoded.headerLength))).message).toMatch(/^invalid infer response: /);
    expect(thrown(() => decodeInferResponseBody(encoded.body, String(encoded.body.length + 1)))).toBeInstanceOf(InvalidInput);
  });

  it('is advertised on GET /v2', () => {
    expect(protocolExtensions).toContain('binary_tensor_data');
  });
});

/** Any tensor the protocol can carry: datatype, a shape of up to 3 small dimensions, matching data. */
const arbitraryTensor: fc.Arbitrary<Tensor> = fc
  .record({
    datatype: fc.constantFrom<Datatype>(...datatypes),
    shape: fc.array(fc.nat(4), { maxLength: 3 }),
    name: fc.string({ minLength: 1, maxLength: 8 }),
  })
  .chain(({ datatype, shape, name }) => {
    const length = shape.reduce((product, size) => product * size, 1);
    const size = { minLength: length, maxLength: length };
    const data: fc.Arbitrary<Tensor['data']> = {
      BOOL: fc.array(fc.boolean(), size).map((values) => Uint8Array.from(values, Number)),
      UINT8: fc.uint8Array(size),
      INT8: fc.int8Array(size),
      INT16: fc.int16Array(size),
      INT32: fc.int32Array(size),
      INT64: fc.bigInt64Array(size),
      FP16: fc.uint16Array(size),
      FP32: fc.float32Array(size),
      FP64: fc.float64Array(size),
    }[datatype];
    return data.map((values) => ({ name, datatype, shape, data: values }));
  });

describe('binary tensor data (properties)', () => {
  it('round-trips any tensors through a request and a response', () => {
    fc.assert(
      fc.property(fc.array(arbitraryTensor, { minLength: 1, maxLength: 4 }), (tensors) => {
        const request = encodeBinaryInferRequest({ inputs: tensors });
        const decoded = decodeAll(request.body, String(request.headerLength));
        decoded.forEach((tensor, index) => expectSameTensor(tensor, tensors[index]!));

        const response = encodeInferResponse({ model_name: 'm' }, tensors, { parameters: { binary_data_output: true } });
        decodeInferResponseBody(response.body, String(response.headerLength)).outputs.forEach((tensor, index) =>
          expectSameTensor(tensor, tensors[index]!),
        );
      }),
    );
  });

  const headerLengths = (bodyLength: number) =>
    fc.oneof(
      fc.constant(null),
      fc.nat(bodyLength + 2).map(String),
      fc.string({ maxLength: 6 }),
      fc.integer({ min: -5, max: 5 }).map(String),
    );

  it('throws nothing but HttpError for arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).chain((body) => fc.tuple(fc.constant(body), headerLengths(body.length))),
        ([body, headerLength]) => {
          for (const read of [() => decodeAll(body, headerLength), () => decodeInferResponseBody(body, headerLength)]) {
            try {
              read();
            } catch (err) {
              expect(err).toBeInstanceOf(HttpError);
            }
          }
        },
      ),
    );
  });

  it('throws nothing but HttpError for valid bodies with bytes changed, cut or added', () => {
    const mutated = fc
      .record({ tensors: fc.array(arbitraryTensor, { minLength: 1, maxLength: 3 }), binaryOutputs: fc.boolean() })
      .chain(({ tensors, binaryOutputs }) => {
        const { body, headerLength } = encodeBinaryInferRequest({ inputs: tensors, binaryOutputs });
        return fc.tuple(
          fc.constant(body),
          fc.oneof(fc.constant(String(headerLength)), headerLengths(body.length)),
          fc.array(fc.tuple(fc.nat(Math.max(0, body.length - 1)), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.integer({ min: -8, max: 8 }),
        );
      })
      .map(([body, headerLength, edits, resize]) => {
        const changed =
          resize < 0 ? body.slice(0, Math.max(0, body.length + resize)) : new Uint8Array([...body, ...new Array(resize).fill(0)]);
        for (const [index, value] of edits) if (index < changed.length) changed[index] = value;
        return [changed, headerLength] as const;
      });
    fc.assert(
      fc.property(mutated, ([body, headerLength]) => {
        for (const read of [() => decodeAll(body, headerLength), () => decodeInferResponseBody(body, headerLength)]) {
          try {
            read();
          } catch (err) {
            expect(err).toBeInstanceOf(HttpError);
          }
        }
      }),
    );
  });
});
