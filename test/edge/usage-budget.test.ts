// Monthly budgets against a real usage store (Redis behind the local Upstash endpoint), with an
// injected clock: a budget in money is spent by priced requests, refused with 402 naming it, seen by
// another isolate through the store, and renewed when the UTC month turns.

import { Redis } from '@upstash/redis/cloudflare';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../infra/local/local-upstash.ts';
import { errorResponse } from '../../protocol/errors.ts';
import type { EdgeEnv } from '../../edge/context.ts';
import { UsageMeter } from '../../edge/metering.ts';
import { enforceBudget } from '../../edge/middleware/budget.ts';
import type { Budgets } from '../../edge/ratelimit/plans.ts';
import { redisUsageStore } from '../../edge/usage/store.ts';

let upstash: LocalUpstash;
let meter: UsageMeter;
let nowMs = Date.UTC(2026, 11, 31, 23, 0);
const now = () => nowMs;
const logs: string[] = [];
const pending: Promise<unknown>[] = [];
const principal = { kind: 'api-key', id: 'key_budgeted0001', owner: 'test', plan: 'free', models: '*' } as const;
// Half a euro per unit on the free plan; a budget of one euro a month.
const budgets: Budgets = { byKey: { [principal.id]: { costMicros: 1_000_000 } }, byPlan: {} };

beforeAll(async () => {
  upstash = await startLocalUpstash();
  const redis = new Redis({ url: upstash.url, token: upstash.token, retry: false, enableTelemetry: false });
  meter = new UsageMeter({
    recording: true,
    store: redisUsageStore(redis),
    // No queue: events are written to the store directly, the path a Worker without the binding takes.
    queue: undefined,
    prices: { currency: 'EUR', pricePerUnitMicros: { free: 500_000, pro: 0 } },
    readTimeoutMs: 2_000,
    writeTimeoutMs: 2_000,
    batchWindowMs: 0,
    log: (line) => logs.push(line),
    now,
  });
});
afterAll(() => upstash?.stop());

/** One isolate: its own budget cache, the shared store. */
function isolate(): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.use(async (c, next) => {
    c.set('principal', principal);
    await next();
  });
  app.use(enforceBudget({ budgets, meter, failureMode: 'open', refreshMs: 60_000, log: (line) => logs.push(line), now }));
  app.post('/run', (c) => {
    const headers = meter.charge(principal, { model: 'silero-vad', tier: 'edge', units: 1, inputElements: 833, computeMs: 0 }, (work) =>
      pending.push(work),
    );
    return c.text('ran', 200, headers);
  });
  app.onError((err) => errorResponse(err));
  return app;
}

describe('monthly budgets', () => {
  it('refuses with 402 naming the budget once its money is spent, and renews with the month', async () => {
    const first = isolate();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await first.request('/run', { method: 'POST' })).status);
    expect(statuses).toEqual([200, 200, 402]);
    const refused = await first.request('/run', { method: 'POST' });
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: string }).error).toBe(
      `the monthly budget of 1 EUR for ${principal.id} is spent (2 units, 1 EUR in 2026-12); it renews on 2027-01-01`,
    );

    // Another isolate has served nothing itself: it learns the spend from the store.
    await Promise.all(pending);
    expect((await isolate().request('/run', { method: 'POST' })).status).toBe(402);

    nowMs = Date.UTC(2027, 0, 1, 0, 0, 1);
    const renewed = await first.request('/run', { method: 'POST' });
    expect(renewed.status).toBe(200);
    expect(renewed.headers.get('x-edgeinfer-cost')).toBe('0.5 EUR');
    expect(logs.filter((line) => line.includes('metering-failed'))).toEqual([]);
  });
});
