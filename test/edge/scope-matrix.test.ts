// Authorization on every route that runs a model, in the real Worker: each route × each kind of
// credential × each grant. A route is allowed exactly when the credential grants every model the route
// runs (a task route: every model of its pipeline, from the task's manifest). An allowed request is
// sent with a content type no route takes, so it passes the gate and stops at 415 without running a
// model; a refused one gets 403 and one audit line.

import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocrTask, vadTask } from '../../models/tasks/catalog.ts';
import { seedApiKey } from '../support/api-keys.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';

const jwtSecret = 'a-test-secret-of-at-least-thirty-two-characters';
const issuer = 'https://auth.example.com/';
const audience = 'edgeinfer-tests';

const models = ['silero-vad', 'paddleocr-cls', 'paddleocr-det', 'paddleocr-rec'];
const routes = [
  ...models.map((model) => ({ path: `/v2/models/${model}/infer`, runs: [model] })),
  { path: '/v1/vad', runs: [...vadTask.models] },
  { path: '/v1/ocr', runs: [...ocrTask.models] },
];

type Grant = { name: string; models: '*' | string[] };
/** The grants of the matrix, for a route: none of its models, one model, exactly the route's models, every model. */
const grantsFor = (runs: readonly string[]): Grant[] => [
  { name: 'none', models: [] },
  { name: 'one model (silero-vad)', models: ['silero-vad'] },
  { name: "the route's models", models: [...runs] },
  { name: "'*'", models: '*' },
];

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker({ vars: { JWT_SECRET: jwtSecret, JWT_ISSUER: issuer, JWT_AUDIENCE: audience } });
});
afterAll(() => edge?.stop());

async function credential(kind: 'api-key' | 'jwt', grant: Grant): Promise<string> {
  if (kind === 'jwt') {
    return new SignJWT({ sub: `matrix-${grant.name}`, models: grant.models })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(jwtSecret));
  }
  // A key record names at least one model: "none" is a key for a model no route runs.
  const allowance = grant.models === '*' ? '*' : grant.models.length > 0 ? grant.models : ['no-such-model'];
  return (await seedApiKey(edge.apiKeys, { models: allowance })).apiKey;
}

const cases = routes.flatMap((route) =>
  (['api-key', 'jwt'] as const).flatMap((kind) =>
    grantsFor(route.runs).map((grant) => ({
      ...route,
      kind,
      grant,
      allowed: grant.models === '*' || route.runs.every((model) => grant.models.includes(model)),
    })),
  ),
);

describe('authorization on every route that runs a model', () => {
  it('covers every route of the matrix', () => {
    expect(cases).toHaveLength(routes.length * 2 * 4);
    expect(cases.filter((c) => !c.allowed).length).toBeGreaterThan(0);
  });

  it.each(cases)('$path with a $kind granting $grant.name: $allowed', async ({ path, kind, grant, allowed, runs }) => {
    const secret = await credential(kind, grant);
    const requestId = `scope-${kind}-${path.replaceAll('/', '_')}-${grant.name.replace(/\W/g, '')}`;
    const res = await edge.fetchWithoutCredentials(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'text/plain', 'x-request-id': requestId },
      body: 'not a model input',
    });
    const body = (await res.json()) as { error: string };
    if (allowed) {
      expect(res.status, body.error).toBe(415);
      return;
    }
    expect(res.status, body.error).toBe(403);
    expect(body.error).toMatch(/may not run/);
    const audit = edge.logs.filter((line) => line.includes('"event":"scope-refused"') && line.includes(requestId));
    expect(audit).toHaveLength(1);
    const line = JSON.parse(audit[0]!) as { audit: boolean; principal: string; models: string[]; path: string };
    expect(line).toMatchObject({ audit: true, path });
    expect(line.models.length).toBeGreaterThan(0);
    for (const model of line.models) expect(runs).toContain(model);
    expect(audit[0]).not.toContain(secret);
  });
});
