// @upstash/ratelimit, unmodified, on @upstash/redis against the local endpoint and a real redis-server:
// the limiter the edge will run, with its scripts going through EVALSHA, NOSCRIPT and EVAL.

import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../../infra/local/local-upstash.ts';

let local: LocalUpstash;
let redis: Redis;
let limiterCount = 0;

beforeAll(async () => {
  local = await startLocalUpstash();
  redis = new Redis({ url: local.url, token: local.token, enableTelemetry: false });
});

afterAll(() => local?.stop());

function limiter(algorithm: ReturnType<typeof Ratelimit.fixedWindow>, options: { ephemeralCache?: false } = {}) {
  return new Ratelimit({ redis, limiter: algorithm, prefix: `test-ratelimit-${++limiterCount}`, ...options });
}

/** Calls `limit` n times, one after the other. */
async function limitTimes(ratelimit: Ratelimit, identifier: string, n: number) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await ratelimit.limit(identifier));
  return results;
}

/** Resolves at the instant a limiter's window resets, which the limiter itself reported. */
function windowResetAt(resetMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, resetMs - Date.now()) + 5));
}

describe('Ratelimit against the local endpoint', () => {
  it('loads its script on a server that has never seen it: EVALSHA fails with NOSCRIPT, EVAL follows', async () => {
    const fresh = await startLocalUpstash();
    try {
      const freshRedis = new Redis({ url: fresh.url, token: fresh.token, enableTelemetry: false });
      const ratelimit = new Ratelimit({ redis: freshRedis, limiter: Ratelimit.fixedWindow(2, '1 h') });
      expect((await ratelimit.limit('caller')).success).toBe(true);
      const stats = String(await freshRedis.exec(['INFO', 'commandstats']));
      expect(stats).toMatch(/cmdstat_evalsha:calls=\d+,.*failed_calls=1\b/);
      expect(stats).toMatch(/cmdstat_eval:calls=1\b/);
      // The script is cached now: the next call needs EVALSHA only.
      expect((await ratelimit.limit('caller')).remaining).toBe(0);
      expect(String(await freshRedis.exec(['INFO', 'commandstats']))).toMatch(/cmdstat_eval:calls=1\b/);
    } finally {
      await fresh.stop();
    }
  });
});

describe('Ratelimit.fixedWindow', () => {
  it('allows N requests in a window with remaining counting down, and denies request N+1', async () => {
    const ratelimit = limiter(Ratelimit.fixedWindow(3, '1 h'));
    const before = Date.now();
    const results = await limitTimes(ratelimit, 'key-a', 4);
    expect(results.map((r) => r.success)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results.every((r) => r.limit === 3)).toBe(true);
    const hourMs = 3_600_000;
    const windowEnd = (Math.floor(before / hourMs) + 1) * hourMs;
    expect(results[0]!.reset).toBe(windowEnd);
  });

  it('counts each identifier on its own', async () => {
    const ratelimit = limiter(Ratelimit.fixedWindow(1, '1 h'));
    expect((await ratelimit.limit('key-a')).success).toBe(true);
    expect((await ratelimit.limit('key-b')).success).toBe(true);
    expect((await ratelimit.limit('key-a')).success).toBe(false);
  });

  it('allows exactly N of many concurrent requests', async () => {
    const ratelimit = limiter(Ratelimit.fixedWindow(5, '1 h'), { ephemeralCache: false });
    const results = await Promise.all(Array.from({ length: 20 }, () => ratelimit.limit('burst')));
    expect(results.filter((r) => r.success)).toHaveLength(5);
  });

  it('allows requests again once the window it reported has reset', async () => {
    const ratelimit = limiter(Ratelimit.fixedWindow(2, '1 s'), { ephemeralCache: false });
    // Start at the beginning of a window, so that the requests below all fall in the same one.
    await windowResetAt((await ratelimit.limit('key')).reset);
    const results = await limitTimes(ratelimit, 'key', 3);
    expect(results.map((r) => r.success)).toEqual([true, true, false]);
    await windowResetAt(results[2]!.reset);
    const next = await ratelimit.limit('key');
    expect(next).toMatchObject({ success: true, remaining: 1 });
  });

  it("forgets an identifier's usage with resetUsedTokens", async () => {
    const ratelimit = limiter(Ratelimit.fixedWindow(1, '1 h'), { ephemeralCache: false });
    await ratelimit.limit('key');
    expect((await ratelimit.limit('key')).success).toBe(false);
    await ratelimit.resetUsedTokens('key');
    expect((await ratelimit.limit('key')).success).toBe(true);
  });
});

describe('Ratelimit.slidingWindow', () => {
  it('allows N requests with remaining counting down, denies request N+1, and reports the window end as reset', async () => {
    const ratelimit = limiter(Ratelimit.slidingWindow(5, '1 h'));
    const before = Date.now();
    const results = await limitTimes(ratelimit, 'key', 6);
    expect(results.map((r) => r.success)).toEqual([true, true, true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    const hourMs = 3_600_000;
    expect(results[0]!.reset).toBe((Math.floor(before / hourMs) + 1) * hourMs);
  });

  it('reports what is left without using any with getRemaining', async () => {
    const ratelimit = limiter(Ratelimit.slidingWindow(5, '1 h'), { ephemeralCache: false });
    await limitTimes(ratelimit, 'key', 2);
    expect(await ratelimit.getRemaining('key')).toMatchObject({ remaining: 3, limit: 5 });
    expect(await ratelimit.getRemaining('key')).toMatchObject({ remaining: 3 });
  });

  it('allows exactly N of many concurrent requests', async () => {
    const ratelimit = limiter(Ratelimit.slidingWindow(5, '1 h'), { ephemeralCache: false });
    const results = await Promise.all(Array.from({ length: 20 }, () => ratelimit.limit('burst')));
    expect(results.filter((r) => r.success)).toHaveLength(5);
  });
});
