// Units of work across the tiers: `/v2` is charged against the plan's limit by the units its request
// holds (a batch of 8 costs more than 1), and a request run on the GPU backend by the run time the
// backend signed, when that is more than its work's units.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countUnits } from '../../models/units.ts';
import { verifiedRunTime } from '../../protocol/run-time.ts';
import { signRequest } from '../../protocol/signature.ts';
import { seedApiKey } from '../support/api-keys.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { repoRoot, type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor, textLinePattern } from '../support/infer.ts';
import { settledUsage, vadFrames } from '../support/metering.ts';

let backend: StartedBackend;
let edge: RunningWorker;
const freeUnitsPerWindow = 10;
const manifestUnits = (model: string) => JSON.parse(readFileSync(join(repoRoot, `models/${model}/manifest.json`), 'utf8')).units;

beforeAll(async () => {
  backend = await startTestBackend();
  edge = await startEdgeWorker({
    vars: {
      BACKEND_URL: backend.url.origin,
      EDGE_SIGNING_SECRET: testSigningSecret,
      RATE_LIMIT_FREE: String(freeUnitsPerWindow),
      // A day's window: the counts these tests compare across requests cannot straddle a window's end.
      RATE_LIMIT_WINDOW_MS: String(86_400_000),
    },
  });
});
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
});

describe('units of work', () => {
  it('charges /v2 against the plan limit by units: a batch of 8 costs more than 1', async () => {
    const free = await seedApiKey(edge.apiKeys, { owner: 'limited', plan: 'free' });
    // no-store: the same batch again would be a cache hit, which costs one request (test/edge/cache.test.ts).
    const infer = (batch: number) =>
      edge.fetch(
        '/v2/models/silero-vad/infer',
        postJson({ inputs: vadFrames(batch) }, { authorization: `Bearer ${free.apiKey}`, 'cache-control': 'no-store' }),
      );
    const eight = await infer(8);
    expect(eight.status).toBe(200);
    const eightUnits = Number(eight.headers.get('x-edgeinfer-units'));
    expect(eightUnits).toBe(countUnits(manifestUnits('silero-vad'), [8 * 832 + 1]));
    expect(Number(eight.headers.get('ratelimit-remaining'))).toBe(freeUnitsPerWindow - eightUnits);
    const one = await infer(1);
    expect(one.headers.get('x-edgeinfer-units')).toBe('1');
    expect(Number(one.headers.get('ratelimit-remaining'))).toBe(freeUnitsPerWindow - eightUnits - 1);
    // What is left of the window pays for one frame, not for another batch of 8.
    const again = await infer(8);
    expect(again.status).toBe(429);
    expect(((await again.json()) as { error: string }).error).toMatch(/rate limit of the free plan/);
    expect((await infer(1)).status).toBe(200);
  });

  it('charges a GPU run by the run time the backend signed, when more than its elements', async () => {
    const caller = await seedApiKey(edge.apiKeys, { owner: 'gpu-caller' });
    // Two lines stay well under the edge's JSON body limit (protocol/edge-limits.ts).
    const lines = 2;
    const one = textLinePattern();
    const data = new Float32Array(one.length * lines);
    for (let i = 0; i < lines; i++) data.set(one, i * one.length);
    const res = await edge.fetch(
      '/v2/models/paddleocr-rec/infer',
      postJson({ inputs: [tensor('x', 'FP32', [lines, 3, 48, 192], data)] }, { authorization: `Bearer ${caller.apiKey}` }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    const spec = manifestUnits('paddleocr-rec');
    const units = Number(res.headers.get('x-edgeinfer-units'));
    // The backend's run time is inside the edge's own wall time around the forward.
    const edgeMs = Number(/infer;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')![1]);
    const byElements = countUnits(spec, [data.length]);
    expect(units).toBeGreaterThanOrEqual(byElements);
    expect(units).toBeLessThanOrEqual(Math.max(byElements, Math.ceil(edgeMs / spec.gpuSessionMsPerUnit)));
    // The plan's window is charged the same: the answer's RateLimit-Remaining counts the run time's
    // units (that the window holds them after the answer is checked on an injected clock in
    // test/edge/rate-limit-run-time.test.ts: here a window boundary could move the figures).
    expect(Number(res.headers.get('ratelimit-limit')) - Number(res.headers.get('ratelimit-remaining'))).toBe(units);
    const usage = await settledUsage(edge, caller.apiKey, 1);
    expect(usage.total).toMatchObject({ requests: 1, units, requestsByTier: { gpu: 1 } });
  });

  it('returns the run time to the edge signed for the request it answers', async () => {
    const path = '/v2/models/paddleocr-rec/infer';
    const body = new TextEncoder().encode(JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 48, 192], textLinePattern())] }));
    const res = await backend.fetch(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'run-time-1',
        ...(await signRequest(testSigningSecret, 'POST', path, body, Date.now())),
      },
      body,
    });
    expect(res.status).toBe(200);
    const runMs = await verifiedRunTime(testSigningSecret, 'run-time-1', res.headers);
    expect(runMs).toBeGreaterThan(0);
    expect(await verifiedRunTime(testSigningSecret, 'another-request', res.headers)).toBeUndefined();
  });
});
