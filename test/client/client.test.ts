// The client against a real HTTP server that answers from a script: which answers it retries and
// after how long (measured by the server's clock), which it never retries, how errors and answers
// map, and how each call is put on the wire.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, EdgeinferError, responseMeta } from '../../client/index.ts';
import { type ScriptedServer, startScriptedServer } from './scripted-server.ts';

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(() => server?.stop());
beforeEach(() => server.script([]));

const apiKey = 'ei_live_test-key';
const vadAnswer = { segments: [{ start_ms: 120, end_ms: 980 }], duration_ms: 1500, sample_rate: 16000, models: { 'silero-vad': '5' } };
const ok = { status: 200, headers: { 'x-edgeinfer-tier': 'edge', 'x-request-id': 'req-ok' }, json: vadAnswer };
const wav = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4]);
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9, 9]);
const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 7, 7]);

function client(options: Partial<Parameters<typeof createClient>[0]> = {}) {
  return createClient({ baseUrl: server.url, apiKey, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<EdgeinferError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EdgeinferError);
  return err as EdgeinferError;
}

const gaps = () => server.received.slice(1).map((request, i) => request.atMs - server.received[i]!.atMs);

describe('retries', () => {
  it('waits the seconds a 429 names in Retry-After, then succeeds', async () => {
    server.script([{ status: 429, headers: { 'retry-after': '1' }, json: { error: 'rate limit exceeded' } }, ok]);
    const result = await client().vad(wav);
    expect(result).toEqual(vadAnswer);
    expect(responseMeta(result)).toEqual({ tier: 'edge', requestId: 'req-ok', attempts: 2 });
    expect(server.received).toHaveLength(2);
    expect(gaps()[0]).toBeGreaterThanOrEqual(990);
    expect(gaps()[0]).toBeLessThan(1500);
    // The retry sends the same body again.
    expect(server.received[1]!.body).toEqual(Buffer.from(wav));
  });

  it('waits until the HTTP date a 503 names in Retry-After', async () => {
    // HTTP dates have whole seconds: two seconds from now, truncated, is between one and two seconds away.
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 2000);
    server.script([{ status: 503, headers: { 'retry-after': at.toUTCString() }, json: { error: 'overloaded' } }, ok]);
    await client().vad(wav);
    expect(server.received).toHaveLength(2);
    // Both clocks are this process's: the retry arrives at the date named, not before.
    expect(server.received[1]!.wallMs).toBeGreaterThanOrEqual(at.getTime() - 5);
    expect(server.received[1]!.wallMs).toBeLessThan(at.getTime() + 500);
  });

  it('backs off exponentially, within the cap, when a 503 has no Retry-After', async () => {
    server.script([{ status: 503, json: { error: 'model unavailable' } }, { status: 503, json: { error: 'model unavailable' } }, ok]);
    await client({ maxRetryDelayMs: 400 }).vad(wav);
    expect(server.received).toHaveLength(3);
    for (const gap of gaps()) expect(gap).toBeLessThan(400 + 150);
  });

  it('gives up after maxRetries with the last answer as a typed error', async () => {
    server.script([
      { status: 429, headers: { 'retry-after': '0', 'x-request-id': 'req-429' }, json: { error: 'rate limit exceeded for plan free' } },
    ]);
    const err = await rejection(client({ maxRetries: 2 }).vad(wav));
    expect(server.received).toHaveLength(3);
    expect(err).toMatchObject({
      status: 429,
      message: 'rate limit exceeded for plan free',
      requestId: 'req-429',
      retryAfterSeconds: 0,
      attempts: 3,
    });
  });

  it('does not wait a Retry-After longer than maxRetryDelayMs: it throws at once and says when to come back', async () => {
    server.script([{ status: 429, headers: { 'retry-after': '120' }, json: { error: 'rate limit exceeded' } }, ok]);
    const startedMs = performance.now();
    const err = await rejection(client({ maxRetryDelayMs: 5_000 }).vad(wav));
    expect(performance.now() - startedMs).toBeLessThan(1000);
    expect(server.received).toHaveLength(1);
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 120, attempts: 1 });
  });

  it('retries nothing when maxRetries is 0', async () => {
    server.script([{ status: 503, headers: { 'retry-after': '0' }, json: { error: 'overloaded' } }, ok]);
    expect((await rejection(client({ maxRetries: 0 }).vad(wav))).status).toBe(503);
    expect(server.received).toHaveLength(1);
  });

  it.each([400, 401, 403, 404, 413, 415, 500, 502])('never retries a %i', async (status) => {
    server.script([
      { status, headers: { 'retry-after': '0', 'x-request-id': `req-${status}` }, json: { error: `refused with ${status}` } },
      ok,
    ]);
    const err = await rejection(client().vad(wav));
    expect(server.received).toHaveLength(1);
    expect(err).toMatchObject({ status, message: `refused with ${status}`, requestId: `req-${status}`, attempts: 1 });
  });

  it('retries a GET whose connection dropped, but not a POST, which the server may have run', async () => {
    const usage = {
      keyId: 'key_1',
      from: '2026-11-01',
      to: '2026-11-01',
      currency: 'USD',
      days: [],
      total: {
        requests: 1,
        units: 1,
        cost: 0.0001,
        inputElements: 0,
        computeMs: 0,
        requestsByTier: { edge: 1 },
        work: { audio_ms: 2000 },
        models: { 'task:vad': { requests: 1, units: 1, cost: 0.0001 } },
      },
    };
    server.script(['drop', { status: 200, json: usage }]);
    expect(await client().usage({ from: '2026-11-01', to: '2026-11-01' })).toEqual(usage);
    expect(server.received).toHaveLength(2);

    server.script(['drop', ok]);
    await expect(client().vad(wav)).rejects.toThrow(TypeError);
    expect(server.received).toHaveLength(1);
  });

  it('stops an attempt at timeoutMs and does not send the work again', async () => {
    server.script(['hang', ok]);
    await expect(client({ timeoutMs: 300 }).vad(wav)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(server.received).toHaveLength(1);
  });

  it('cancels a wait between retries when the caller aborts', async () => {
    server.script([{ status: 429, headers: { 'retry-after': '10' }, json: { error: 'rate limit exceeded' } }, ok]);
    const controller = new AbortController();
    const call = client().vad(wav, {}, { signal: controller.signal });
    await expect.poll(() => server.received.length).toBe(1);
    const abortedAtMs = performance.now();
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
    expect(performance.now() - abortedAtMs).toBeLessThan(500);
    expect(server.received).toHaveLength(1);
  });
});

describe('errors', () => {
  it('takes the message from the error body, else the status and the text sent', async () => {
    server.script([{ status: 500, text: 'upstream exploded' }]);
    expect(await rejection(client().vad(wav))).toMatchObject({
      status: 500,
      message: 'HTTP 500: upstream exploded',
      requestId: undefined,
      retryAfterSeconds: undefined,
    });
  });

  it('refuses a 200 whose body does not match the protocol', async () => {
    server.script([{ status: 200, headers: { 'x-request-id': 'req-odd' }, json: { segments: 'none' } }]);
    const err = await rejection(client().vad(wav));
    expect(err).toMatchObject({ status: 200, requestId: 'req-odd' });
    expect(err.message).toMatch(/does not match the protocol/);
  });
});

describe('request encoding', () => {
  it('sends one recording as the raw WAV body, its options in the query, the key as a bearer token', async () => {
    server.script([ok]);
    await client().vad(new Blob([wav], { type: 'audio/x-wav' }), { threshold: 0.6, min_silence_duration_ms: 200 });
    const [request] = server.received;
    expect(request!.method).toBe('POST');
    expect(request!.url.pathname).toBe('/v1/vad');
    expect(Object.fromEntries(request!.url.searchParams)).toEqual({ threshold: '0.6', min_silence_duration_ms: '200' });
    expect(request!.headers['content-type']).toBe('audio/wav');
    expect(request!.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request!.body).toEqual(Buffer.from(wav));
  });

  it('sends a batch as JSON with each file in base64 and the options once', async () => {
    const large = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    server.script([{ status: 200, json: { results: [vadAnswer, vadAnswer], models: { 'silero-vad': '5' } } }]);
    const batch = await client().vadBatch([wav, large.buffer], { speech_pad_ms: 10 });
    expect(batch.results).toHaveLength(2);
    const [request] = server.received;
    expect(request!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request!.body.toString()) as { files: string[]; options: unknown };
    expect(body.files.map((file) => Buffer.from(file, 'base64'))).toEqual([Buffer.from(wav), Buffer.from(large)]);
    expect(body.options).toEqual({ speech_pad_ms: 10 });
  });

  it('sends an image raw with the type its bytes show, and a batch of images as JSON', async () => {
    const ocrAnswer = {
      text: 'HELLO',
      lines: [
        {
          text: 'HELLO',
          confidence: 0.98,
          box: [
            [1, 2],
            [30, 2],
            [30, 12],
            [1, 12],
          ],
        },
      ],
      width: 64,
      height: 16,
      models: { 'paddleocr-det': '1' },
    };
    server.script([{ status: 200, json: ocrAnswer }]);
    expect(await client().ocr(png)).toEqual(ocrAnswer);
    expect(await client().ocr(new Blob([jpeg]))).toEqual(ocrAnswer);
    expect(server.received.map((r) => [r.url.pathname, r.headers['content-type']])).toEqual([
      ['/v1/ocr', 'image/png'],
      ['/v1/ocr', 'image/jpeg'],
    ]);
    expect(server.received[1]!.body).toEqual(Buffer.from(jpeg));

    const { models, ...result } = ocrAnswer;
    server.script([{ status: 200, json: { results: [result], models } }]);
    await client().ocrBatch([png]);
    expect(JSON.parse(server.received[0]!.body.toString())).toEqual({ files: [Buffer.from(png).toString('base64')] });
  });

  it('posts inference to the model, or to one version of it, and keeps a base URL path', async () => {
    const inferAnswer = {
      model_name: 'silero-vad',
      model_version: '5',
      outputs: [{ name: 'output', shape: [1, 1], datatype: 'FP32', data: [0.1] }],
    };
    server.script([{ status: 200, json: inferAnswer }]);
    const request = { inputs: [{ name: 'sr', shape: [], datatype: 'INT64', data: [16000] }] };
    expect(await client().infer('silero-vad', request)).toEqual(inferAnswer);
    await createClient({ baseUrl: `${server.url}/api`, apiKey }).infer('silero-vad', request, { version: '5' });
    expect(server.received.map((r) => r.url.pathname)).toEqual([
      '/v2/models/silero-vad/infer',
      '/api/v2/models/silero-vad/versions/5/infer',
    ]);
    expect(JSON.parse(server.received[0]!.body.toString())).toEqual(request);
  });
});
