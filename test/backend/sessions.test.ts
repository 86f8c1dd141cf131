// The backend's sessions against hostile shapes and a real stopped thread: the inputs that used to
// abort onnxruntime-node natively or kill a session thread are refused with 4xx JSON before a tensor
// exists, and a session whose thread is terminated is restarted, reported as restarting by the
// model's /ready and the server's /v2/health/ready until it is back, and then serves again.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, InferResponse } from '../../protocol/schemas.ts';
import { type StartedBackend, startTestBackend } from '../support/backend.ts';
import { postJson, tensor, textLinePattern } from '../support/infer.ts';

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend({ EDGE_SIGNATURE_REQUIRED: 'false', EDGE_SIGNING_SECRET: '' });
});
afterAll(() => server?.stop());

const sileroFrame = (batch = 1) => ({
  inputs: [
    tensor('input', 'FP32', [batch, 576], new Float32Array(batch * 576)),
    tensor('state', 'FP32', [2, batch, 128], new Float32Array(2 * batch * 128)),
    tensor('sr', 'INT64', [], [16000]),
  ],
});
const recLine = { inputs: [tensor('x', 'FP32', [1, 3, 48, 32], textLinePattern(32))] };

async function expectClientError(res: Response, message?: RegExp): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBeGreaterThanOrEqual(400);
  expect(res.status, text).toBeLessThan(500);
  const body = ErrorResponse.parse(JSON.parse(text));
  if (message) expect(body.error).toMatch(message);
}

async function expectServes(path: string, body: unknown): Promise<void> {
  const res = await server.fetch(path, postJson(body));
  expect(res.status, await res.clone().text()).toBe(200);
  InferResponse.parse(await res.json());
}

describe('hostile shapes on the backend', () => {
  it('refuses an empty batch to silero-vad (it aborted the process) with 400, and keeps serving', async () => {
    const res = await server.fetch(
      '/v2/models/silero-vad/versions/5/infer',
      postJson({
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [0, 576], data: [] },
          { name: 'state', datatype: 'FP32', shape: [2, 0, 128], data: [] },
          { name: 'sr', datatype: 'INT64', shape: [], data: [16000] },
        ],
      }),
    );
    await expectClientError(res, /size 0 at dimension 0/);
    expect((await server.fetch('/v2/health/ready')).status).toBe(200);
    await expectServes('/v2/models/silero-vad/versions/5/infer', sileroFrame());
  });

  it.each([
    [[0, 3, 48, 1e300]],
    [[0, 3, 48, 2 ** 53 + 2]],
    [[1, 3, 48, 1e300]],
    [[1, 3, 48, 2 ** 53 + 2]],
    [[1, 3, 48, 1.5]],
    [[1, 3, 48, -32]],
  ])('refuses paddleocr-rec shape %j with 4xx JSON, and the model stays ready and serving', async (shape) => {
    await expectClientError(
      await server.fetch('/v2/models/paddleocr-rec/infer', postJson({ inputs: [{ name: 'x', datatype: 'FP32', shape, data: [] }] })),
    );
    expect((await server.fetch('/v2/models/paddleocr-rec/ready')).status).toBe(200);
    expect((await server.fetch('/v2/health/ready')).status).toBe(200);
    await expectServes('/v2/models/paddleocr-rec/infer', recLine);
  });
});

describe('a session whose thread stops', () => {
  it('is restarted, reported as restarting until it is back, then serves again', async () => {
    const { runtime, registry } = server.backend.deps;
    const model = registry.resolve('silero-vad', '5');
    const thread = runtime.sessionThread(model);
    expect(thread).toBeDefined();
    // A real stop: the idle worker thread is terminated, as a crash or an out-of-memory would end it.
    // (Idle: terminating a thread inside a native run aborts the whole process, see runtime.ts.)
    await thread!.terminate();
    expect(runtime.state(model).status).toBe('restarting');

    const health = await server.fetch('/v2/health/ready');
    expect(health.status).toBe(503);
    expect(ErrorResponse.parse(await health.json()).error).toMatch(/restarting the session of silero-vad@5/);
    const modelReady = await server.fetch('/v2/models/silero-vad/versions/5/ready');
    expect(modelReady.status).toBe(503);
    expect(ErrorResponse.parse(await modelReady.json()).error).toMatch(/restarting its session/);
    const refused = await server.fetch('/v2/models/silero-vad/versions/5/infer', postJson(sileroFrame()));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    ErrorResponse.parse(await refused.json());
    // Other models are not affected.
    expect((await server.fetch('/v2/models/paddleocr-rec/ready')).status).toBe(200);

    await expect.poll(() => runtime.state(model).status, { timeout: 60_000, interval: 50 }).toBe('ready');
    expect(runtime.sessionThread(model)).not.toBe(thread);
    expect((await server.fetch('/v2/health/ready')).status).toBe(200);
    expect((await server.fetch('/v2/models/silero-vad/versions/5/ready')).status).toBe(200);
    await expectServes('/v2/models/silero-vad/versions/5/infer', sileroFrame(2));
    expect(server.logs.join('\n')).toMatch(/model silero-vad@5 restarting: its session stopped/);
  });
});
