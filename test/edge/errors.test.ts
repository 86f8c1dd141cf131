// Every failure the edge can answer, one named case per status: JSON `{"error"}`, no stack traces.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

const infer = '/v2/models/silero-vad/infer';
const state = tensor('state', 'FP32', [2, 1, 128], new Float32Array(256));
const sr = tensor('sr', 'INT64', [], [16000]);

async function expectError(res: Response, status: number, mentions: string | RegExp) {
  // A 500 here is a fault of ours: the Worker's last lines carry its `unexpected-error` record.
  expect(res.status, `answered ${res.status}; the Worker's last log lines:\n${edge.logs.slice(-5).join('\n')}`).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as { error: string };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(mentions);
  expect(body.error).not.toMatch(/\n\s+at /);
}

describe('edge errors', () => {
  it('400 for a body that is not JSON', async () => {
    await expectError(
      await edge.fetch(infer, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": [' }),
      400,
      /not valid JSON/,
    );
  });

  it('400 for a request without inputs', async () => {
    await expectError(await edge.fetch(infer, postJson({ inputs: 'none' })), 400, /inputs/);
  });

  it('400 for data whose length differs from the product of its shape', async () => {
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, 576], new Float32Array(575)), state, sr] })),
      400,
      /575 data values.*needs 576/,
    );
  });

  it('400 for a negative or fractional dimension', async () => {
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, -576], []), state, sr] })),
      400,
      /invalid size -576/,
    );
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1.5, 2], [1, 2, 3]), state, sr] })),
      400,
      /invalid size 1.5/,
    );
  });

  it('400 for a datatype the model does not declare', async () => {
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP64', [1, 2], [0, 0]), state, sr] })),
      400,
      /datatype FP64.*expects FP32/,
    );
  });

  it('400 for values that do not fit the datatype', async () => {
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, 2], [0, 'loud']), state, sr] })),
      400,
      /"loud".*FP32/,
    );
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, 2], [0, 1e39]), state, sr] })),
      400,
      /does not fit datatype FP32/,
    );
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, 2], [0, 0]), state, tensor('sr', 'INT64', [], [16000.5])] })),
      400,
      /INT64/,
    );
  });

  it('400 for a missing, unknown or repeated input, and an unknown output', async () => {
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, 2], [0, 0]), state] })),
      400,
      /'sr' is missing/,
    );
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('audio', 'FP32', [1, 2], [0, 0]), state, sr] })),
      400,
      /no input 'audio'/,
    );
    await expectError(await edge.fetch(infer, postJson({ inputs: [state, state, sr] })), 400, /more than once/);
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, 2], [0, 0]), state, sr], outputs: [{ name: 'logits' }] })),
      400,
      /no output 'logits'/,
    );
  });

  it('400 for batched inputs whose batch sizes disagree', async () => {
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [2, 2], [0, 0, 0, 0]), state, sr] })),
      400,
      /batch of 1 but an earlier input has 2/,
    );
  });

  it('400 for binary tensor data whose declared sizes lie', async () => {
    const header = (size: number) =>
      new TextEncoder().encode(
        JSON.stringify({
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [1, 576], parameters: { binary_data_size: size } },
            { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: Array(256).fill(0) },
            { name: 'sr', datatype: 'INT64', shape: [], data: [16000] },
          ],
        }),
      );
    const send = (json: Uint8Array, dataBytes: number, headerLength = json.length) => {
      const body = new Uint8Array(json.length + dataBytes);
      body.set(json);
      return edge.fetch(infer, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
        body,
      });
    };
    await expectError(await send(header(576 * 4), 576 * 4 - 4), 400, /declare 2304 bytes.*has 2300/);
    await expectError(await send(header(576 * 4), 576 * 4 + 4), 400, /declare 2304 bytes.*has 2308/);
    await expectError(await send(header(100), 100), 400, /input 'input'/);
    await expectError(await send(header(576 * 4), 576 * 4, 1_000_000), 400, /only \d+ bytes/);
  });

  it('404 for an unknown model, version or route', async () => {
    await expectError(await edge.fetch('/v2/models/whisper/infer', postJson({})), 404, /'whisper' is not served here/);
    await expectError(await edge.fetch('/v2/models/silero-vad/versions/4/infer', postJson({})), 404, /no version '4'/);
    await expectError(await edge.fetch('/v3'), 404, /no route/);
  });

  it('405 with Allow for a method a route does not take', async () => {
    const res = await edge.fetch(infer, { method: 'GET' });
    expect(res.headers.get('allow')).toBe('POST');
    await expectError(res, 405, /GET is not allowed/);
    await expectError(await edge.fetch('/v2/models/silero-vad', { method: 'DELETE' }), 405, /DELETE/);
  });

  it('413 when Content-Length announces a body over the model limit, before reading it', async () => {
    const huge = 'x'.repeat(2 * 1024 * 1024 + 1);
    await expectError(
      await edge.fetch(infer, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge }),
      413,
      /limit of 2097152 bytes/,
    );
  });

  it('413 when a streamed body without Content-Length grows past the limit', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(256 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 16) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await edge.fetch(infer, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, /limit/);
  });

  it('413 for a tensor whose element count exceeds the model limit, before allocating it', async () => {
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [1, 100_000_000], []), state, sr] })),
      413,
      /100000000 elements/,
    );
    await expectError(
      await edge.fetch(infer, postJson({ inputs: [tensor('input', 'FP32', [65, 1], new Float32Array(65)), state, sr] })),
      413,
      /batch of 65.*at most 64/,
    );
  });

  it('413 for a body under the byte limit that would parse into more values than the model allows', async () => {
    const arrays = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1],"data":[${'[],'.repeat(200_000)}[]]}]}`;
    expect(arrays.length).toBeLessThan(2 * 1024 * 1024);
    await expectError(
      await edge.fetch(infer, { method: 'POST', headers: { 'content-type': 'application/json' }, body: arrays }),
      413,
      /more JSON values/,
    );
  });

  it('415 for a content type other than JSON', async () => {
    await expectError(
      await edge.fetch(infer, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }),
      415,
      /text\/plain/,
    );
    await expectError(await edge.fetch(infer, { method: 'POST', body: new Uint8Array([1, 2]) }), 415, /content type/);
  });
});
