// Generated hostile infer requests (test/support/hostile-requests.ts: sizes 0, 1, huge, 2^53+2, 1e300,
// negative, fractional; wrong names, ranks and datatypes; values past a datatype's range, NaN, ±Infinity)
// to every model version on both tiers: the backend directly, and the edge in workerd (which runs its
// own models and forwards the rest to that backend). Every answer is a 200 (the request happened to be
// valid) or a 4xx JSON error, never a 5xx; both tiers stay alive and ready; and the model version that
// was sent the request answers a normal request right after. `npm run fuzz` runs the same generator
// thousands of times and counts.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, InferResponse } from '../../protocol/schemas.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { hostileRequest, type ModelTarget, modelTargets, normalRequest } from '../support/hostile-requests.ts';

let backend: StartedBackend;
let edge: RunningWorker;
let targets: ModelTarget[];
beforeAll(async () => {
  targets = await modelTargets();
  backend = await startTestBackend({ EDGE_SIGNATURE_REQUIRED: 'false' });
  edge = await startEdgeWorker({
    vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret, RATE_LIMIT_PRO: '1000000' },
  });
  // Both tiers with every model version loaded: minutes on a loaded 2-core machine.
}, 300_000);
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
});

type Send = (path: string, body: unknown) => Promise<Response>;
const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const tiers: Record<'backend' | 'edge', () => Send> = {
  backend: () => (path, body) => backend.fetch(path, json(body)),
  edge: () => (path, body) => edge.fetch(path, json(body)),
};

async function expectAnsweredWithout5xx(res: Response, sent: unknown): Promise<void> {
  const text = await res.text();
  const context = `${res.status} ${text.slice(0, 200)} <- ${JSON.stringify(sent).slice(0, 200)}`;
  if (res.status === 200) {
    InferResponse.parse(JSON.parse(text));
    return;
  }
  expect(res.status, context).toBeGreaterThanOrEqual(400);
  expect(res.status, context).toBeLessThan(500);
  expect(() => ErrorResponse.parse(JSON.parse(text)), context).not.toThrow();
}

describe.each(['backend', 'edge'] as const)('hostile requests to every model version on the %s', (tier) => {
  it('answers each with 200 or 4xx JSON, stays alive and ready, and the model serves a normal request after', async () => {
    const send = tiers[tier]();
    await fc.assert(
      fc.asyncProperty(hostileRequest(targets), async ({ target, body }) => {
        await expectAnsweredWithout5xx(await send(target.inferPath, body), body);
        const normal = await send(target.inferPath, normalRequest(target.manifest));
        expect(normal.status, `${target.manifest.name}@${target.version}: ${await normal.clone().text()}`).toBe(200);
        await normal.arrayBuffer();
      }),
      { numRuns: 120 },
    );
    expect((await backend.fetch('/v2/health/ready')).status).toBe(200);
    expect((await edge.fetch('/v2/health/ready')).status).toBe(200);
  }, 300_000);
});
