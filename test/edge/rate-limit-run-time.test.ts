// The plan's limit and a GPU run's signed run time (edge/middleware/rate-limit.ts): a request is
// admitted on what it weighs, and what the answer says it cost beyond that (x-edgeinfer-units) is
// counted against the same window after the answer, which RateLimit-Remaining already reports. The
// window is the in-memory one on an injected clock, so no window boundary can move the figures.

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { EdgeEnv } from '../../edge/context.ts';
import { unitsHeader } from '../../edge/metering.ts';
import { limitByPlan, type RateLimitOptions } from '../../edge/middleware/rate-limit.ts';
import { memoryLimiter } from '../../edge/ratelimit/limiter.ts';

const windowMs = 60_000;
const now = () => 30_000; // mid-window, fixed

function appCharging(chargedUnits: number, weight: number) {
  const rule = { requests: 100, windowMs };
  const options: RateLimitOptions = {
    perPlan: { free: memoryLimiter(rule, now), pro: memoryLimiter(rule, now) },
    failedAuthPerIp: memoryLimiter(rule, now),
    publicPerIp: memoryLimiter(rule, now),
    failureMode: 'open',
    log: () => {},
    now,
  };
  const app = new Hono<EdgeEnv>();
  app.use('*', async (c, next) => {
    c.set('principal', { kind: 'api-key', id: 'key_run_time', owner: 'o', plan: 'pro', models: '*' } as EdgeEnv['Variables']['principal']);
    await next();
  });
  app.post(
    '/run',
    limitByPlan(options, () => weight),
    (c) => c.text('ok', 200, { [unitsHeader]: String(chargedUnits) }),
  );
  app.post('/frame', limitByPlan(options), (c) => c.text('ok', 200, { [unitsHeader]: '1' }));
  return app;
}

/** Runs a request with an execution context whose waitUntil work is awaited before returning. */
async function send(app: Hono<EdgeEnv>, path: string): Promise<Response> {
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (work: Promise<unknown>) => void pending.push(work), passThroughOnException: () => {}, props: {} };
  const response = await app.request(path, { method: 'POST' }, {}, ctx);
  await Promise.all(pending);
  return response;
}

const remaining = (response: Response) => Number(response.headers.get('ratelimit-remaining'));

describe('the plan limit and the run time', () => {
  it('counts what the run time added beyond the weight against the window, and says so in RateLimit-Remaining', async () => {
    const app = appCharging(7, 2);
    const run = await send(app, '/run');
    expect(remaining(run)).toBe(100 - 7);
    const frame = await send(app, '/frame');
    expect(remaining(frame)).toBe(100 - 7 - 1);
  });

  it('counts nothing more when the answer cost no more than its weight (a cache hit, a fast run)', async () => {
    const app = appCharging(0, 2);
    const run = await send(app, '/run');
    expect(remaining(run)).toBe(100 - 2);
    expect(remaining(await send(app, '/frame'))).toBe(100 - 2 - 1);
  });
});
