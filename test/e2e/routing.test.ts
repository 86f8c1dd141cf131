// The two tiers together: the edge in workerd and the backend over real HTTP. The manifest's tier
// decides where a request runs; a backend that goes away opens the breaker, auto-tier models fall back
// to the edge, gpu-tier models answer 503 with Retry-After, and service resumes when it comes back.

import { servedVersions } from '../support/serving.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor, textLinePattern } from '../support/infer.ts';

// Each request must run its model, so the response cache (edge/cache/) is bypassed.
const noStore = { 'cache-control': 'no-store' };

let backend: StartedBackend | undefined;
let backendPort: number;
let edge: RunningWorker;

beforeAll(async () => {
  backend = await startTestBackend();
  backendPort = Number(backend.url.port);
  edge = await startEdgeWorker({
    vars: {
      BACKEND_URL: backend.url.origin,
      EDGE_SIGNING_SECRET: testSigningSecret,
      BACKEND_FAILURE_THRESHOLD: '2',
      BACKEND_COOL_DOWN_MS: '1000',
    },
  });
});
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
});

const recLine = tensor(
  'x',
  'FP32',
  [1, 3, 48, 64],
  Array.from({ length: 3 * 48 * 64 }, (_, i) => Math.sin(i / 7)),
);
const crops = (count: number) => {
  const one = textLinePattern();
  const all = new Float32Array(one.length * count);
  for (let i = 0; i < count; i++) all.set(one, i * one.length);
  return tensor('x', 'FP32', [count, 3, 48, 192], all);
};
type Body = { model_version: string; outputs: { name: string; shape: number[]; data: number[] }[] };

describe('routing between the tiers', () => {
  it('forwards a gpu-tier model to the backend, signed, and answers what the backend computed', async () => {
    const res = await edge.fetch(
      '/v2/models/paddleocr-rec/infer',
      postJson({ inputs: [recLine] }, { 'x-request-id': 'trace-me-1', ...noStore }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    expect(res.headers.get('x-request-id')).toBe('trace-me-1');
    const viaEdge = (await res.json()) as Body;
    const direct = (await (await backend!.signedPost('/v2/models/paddleocr-rec/infer', { inputs: [recLine] })).json()) as Body;
    // The backend's own choice of version, since the request named none.
    expect(viaEdge.model_version).toBe((await servedVersions('gpu', ['paddleocr-rec']))['paddleocr-rec']);
    expect(viaEdge.outputs[0]!.shape).toEqual(direct.outputs[0]!.shape);
    expect(viaEdge.outputs[0]!.data).toEqual(direct.outputs[0]!.data);
  });

  it('reports a gpu-tier model ready when the backend has it ready', async () => {
    expect((await edge.fetch('/v2/models/paddleocr-rec/ready')).status).toBe(200);
  });

  it("passes on the backend's 400 for an input only the graph refuses", async () => {
    const res = await edge.fetch(
      '/v2/models/paddleocr-det/infer',
      postJson({ inputs: [tensor('x', 'FP32', [1, 3, 33, 33], new Float32Array(3 * 33 * 33))] }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/paddleocr-det/);
  });

  it('runs an auto-tier model at the edge under its threshold and on the backend above it', async () => {
    const small = await edge.fetch('/v2/models/paddleocr-cls/infer', postJson({ inputs: [crops(1)] }, noStore));
    expect(small.status).toBe(200);
    expect(small.headers.get('x-edgeinfer-tier')).toBe('edge');
    const large = await edge.fetch('/v2/models/paddleocr-cls/infer', postJson({ inputs: [crops(5)] }, noStore));
    expect(large.status).toBe(200);
    expect(large.headers.get('x-edgeinfer-tier')).toBe('gpu');
    const [first] = ((await small.json()) as Body).outputs;
    const [batched] = ((await large.json()) as Body).outputs;
    for (const [i, p] of first!.data.entries()) expect(Math.abs(p - batched!.data[i]!)).toBeLessThan(1e-4);
  });

  it('with the backend gone: falls back to the edge for auto-tier models, 503 for gpu-tier, then recovers', async () => {
    await backend!.stop();
    backend = undefined;

    const fallback = await edge.fetch('/v2/models/paddleocr-cls/infer', postJson({ inputs: [crops(5)] }, noStore));
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get('x-edgeinfer-tier')).toBe('edge-fallback');
    expect(((await fallback.json()) as Body).outputs[0]!.shape).toEqual([5, 2]);

    // Two consecutive failures (the fallback above was one) open the breaker; then it answers at once.
    const unavailable = await edge.fetch('/v2/models/paddleocr-rec/infer', postJson({ inputs: [recLine] }, noStore));
    expect(unavailable.status).toBe(503);
    expect(Number(unavailable.headers.get('retry-after'))).toBeGreaterThan(0);
    const open = await edge.fetch('/v2/models/paddleocr-rec/infer', postJson({ inputs: [recLine] }, noStore));
    expect(open.status).toBe(503);
    expect(((await open.json()) as { error: string }).error).toMatch(/circuit open/);

    backend = await startTestBackend({ PORT: String(backendPort) });
    // After the cool-down one probe goes through and closes the breaker.
    let recovered: Response | undefined;
    for (let attempt = 0; attempt < 40 && recovered?.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      recovered = await edge.fetch('/v2/models/paddleocr-rec/infer', postJson({ inputs: [recLine] }, noStore));
    }
    expect(recovered!.status).toBe(200);
    expect(recovered!.headers.get('x-edgeinfer-tier')).toBe('gpu');
  });
});

describe('an edge whose secret the backend does not share', () => {
  let other: StartedBackend;
  let misconfigured: RunningWorker;
  beforeAll(async () => {
    other = await startTestBackend();
    misconfigured = await startEdgeWorker({
      vars: { BACKEND_URL: other.url.origin, EDGE_SIGNING_SECRET: 'not-the-backend-secret-but-32-chars-long' },
    });
  });
  afterAll(async () => {
    await misconfigured?.stop();
    await other?.stop();
  });

  it('answers 502 naming the secret, not 401 to a caller who did nothing wrong', async () => {
    const res = await misconfigured.fetch('/v2/models/paddleocr-rec/infer', postJson({ inputs: [recLine] }, noStore));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/EDGE_SIGNING_SECRET/);
  });
});
