// Single flight in the response cache: concurrent identical requests for a gpu model reach the real
// backend once, counted by the backend's own request counter (/metrics).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsAuthorization, type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor, textLinePattern } from '../support/infer.ts';

async function recRuns(backend: StartedBackend): Promise<number> {
  const answer = await backend.fetch('/metrics', { headers: metricsAuthorization });
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
  const metrics = await answer.text();
  const line = metrics.split('\n').find((l) => l.startsWith('edgeinfer_backend_requests_total{model="paddleocr-rec",status="200"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('response cache single flight', () => {
  let backend: StartedBackend;
  let edge: RunningWorker;
  beforeAll(async () => {
    backend = await startTestBackend();
    edge = await startEdgeWorker({ vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret } });
  });
  afterAll(async () => {
    await edge?.stop();
    await backend?.stop();
  });

  it('runs the model once for N concurrent identical misses and answers all N alike', async () => {
    const request = postJson({ inputs: [tensor('x', 'FP32', [1, 3, 48, 160], textLinePattern(160))] });
    const before = await recRuns(backend);
    const answers = await Promise.all(Array.from({ length: 8 }, () => edge.fetch('/v2/models/paddleocr-rec/infer', request)));
    const bodies = await Promise.all(answers.map((answer) => answer.text()));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(await recRuns(backend)).toBe(before + 1);
    expect(new Set(bodies).size).toBe(1);
    const statuses = answers.map((answer) => answer.headers.get('cache-status'));
    expect(statuses.filter((status) => status === 'edgeinfer; fwd=miss; stored')).toHaveLength(1);
    for (const status of statuses)
      expect(['edgeinfer; fwd=miss; stored', 'edgeinfer; fwd=miss; collapsed', 'edgeinfer; hit']).toContain(status);

    // With no-store each request runs.
    const bypassed = postJson({ inputs: [tensor('x', 'FP32', [1, 3, 48, 160], textLinePattern(160))] }, { 'cache-control': 'no-store' });
    for (const answer of await Promise.all([1, 2].map(() => edge.fetch('/v2/models/paddleocr-rec/infer', bypassed))))
      await answer.arrayBuffer();
    expect(await recRuns(backend)).toBe(before + 3);
  });
});
