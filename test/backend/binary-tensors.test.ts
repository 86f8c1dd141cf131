import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyHeaders, decodeInferResponseBody, encodeBinaryInferRequest, inferenceHeaderContentLength } from '../../protocol/binary.ts';
import { ErrorResponse, InferResponse, ServerMetadata } from '../../protocol/schemas.ts';
import { type StartedBackend, startTestBackend } from '../support/backend.ts';
import { tensor, textLinePattern } from '../support/infer.ts';

const path = '/v2/models/paddleocr-rec/infer';
const line = textLinePattern(32);
const input = { name: 'x', datatype: 'FP32' as const, shape: [1, 3, 48, 32], data: line };

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend({ EDGE_SIGNATURE_REQUIRED: 'false', EDGE_SIGNING_SECRET: '' });
});
afterAll(() => server?.stop());

function post(body: Uint8Array, headers: Record<string, string>): Promise<Response> {
  return server.fetch(path, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer> });
}

async function jsonOutput(): Promise<number[]> {
  const res = await server.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [tensor('x', 'FP32', input.shape, line)] }),
  });
  return InferResponse.parse(await res.json()).outputs[0]!.data as number[];
}

describe('binary tensor data extension', () => {
  it('is advertised on GET /v2', async () => {
    expect(ServerMetadata.parse(await (await server.fetch('/v2')).json()).extensions).toContain('binary_tensor_data');
  });

  it('runs a binary request to the same result as JSON, answered as JSON by default', async () => {
    const encoded = encodeBinaryInferRequest({ inputs: [input] });
    const res = await post(encoded.body, bodyHeaders(encoded));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(InferResponse.parse(await res.json()).outputs[0]!.data).toEqual(await jsonOutput());
  });

  it('answers binary outputs when asked, with the JSON header length in its header', async () => {
    const encoded = encodeBinaryInferRequest({ inputs: [input], binaryOutputs: true });
    const res = await post(encoded.body, bodyHeaders(encoded));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const decoded = decodeInferResponseBody(new Uint8Array(await res.arrayBuffer()), res.headers.get(inferenceHeaderContentLength));
    expect(decoded.outputs[0]!.shape).toEqual([1, 4, 6625]);
    expect(Array.from(decoded.outputs[0]!.data as Float32Array)).toEqual(await jsonOutput());
  });

  it.each([
    [
      'the data is shorter than declared',
      (body: Uint8Array) => body.subarray(0, body.length - 4),
      (h: number) => h,
      /declare \d+ bytes of binary data but the body has/,
    ],
    [
      'the data is longer than declared',
      (body: Uint8Array) => new Uint8Array([...body, 0, 0, 0, 0]),
      (h: number) => h,
      /declare \d+ bytes of binary data but the body has/,
    ],
    [
      'the header length runs past the body',
      (body: Uint8Array) => body,
      (_h: number, body: Uint8Array) => body.length + 1,
      /but the body has only/,
    ],
    ['the header length cuts the JSON short', (body: Uint8Array) => body, (h: number) => h - 2, /not valid JSON/],
  ])('answers 400 JSON when %s', async (_case, reshape, headerLength, message) => {
    const encoded = encodeBinaryInferRequest({ inputs: [input] });
    const body = reshape(encoded.body);
    const res = await post(body, {
      'content-type': 'application/octet-stream',
      [inferenceHeaderContentLength]: String(headerLength(encoded.headerLength, body)),
    });
    expect(res.status).toBe(400);
    expect(ErrorResponse.parse(await res.json()).error).toMatch(message);
  });

  it('answers 400 when the declared size does not fit the shape', async () => {
    const encoded = encodeBinaryInferRequest({ inputs: [{ ...input, shape: [1, 3, 48, 16] }] });
    const res = await post(encoded.body, bodyHeaders(encoded));
    expect(res.status).toBe(400);
    expect(ErrorResponse.parse(await res.json()).error).toMatch(/bytes of binary data; shape \[1, 3, 48, 16\] of FP32 needs/);
  });
});
