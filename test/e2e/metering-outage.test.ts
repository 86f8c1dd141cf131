// Metering through a Redis outage: a real redis-server (appending every write to disk) is killed under
// load and restarted; the events wait in the metering queue and land once, so what was served is what
// was metered. And with Redis paused (SIGSTOP), usage reads answer 503 at their timeout, not never.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedApiKey } from '../support/api-keys.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson } from '../support/infer.ts';
import { type RestartableUpstash, startRestartableUpstash } from '../support/restartable-upstash.ts';
import { settledUsage, today, usageOf, vadFrames } from '../support/metering.ts';

let upstash: RestartableUpstash;
let edge: RunningWorker;
const readTimeoutMs = 500;

beforeAll(async () => {
  upstash = await startRestartableUpstash();
  edge = await startEdgeWorker({
    vars: {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      USAGE_READ_TIMEOUT_MS: String(readTimeoutMs),
      METERING_WRITE_TIMEOUT_MS: '1000',
    },
  });
});
afterAll(async () => {
  await edge?.stop();
  await upstash?.stop();
});

describe('metering while Redis is down', () => {
  it('meters every request served while Redis was killed and restarted, none twice', async () => {
    const caller = await seedApiKey(edge.apiKeys, { owner: 'outage' });
    const total = 240;
    const concurrency = 6;
    let sent = 0;
    let served = 0;
    let unitsServed = 0;
    const outage = { killAt: 60, restartAt: 180 };
    let killed: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    const worker = async () => {
      while (sent < total) {
        const index = sent++;
        if (index === outage.killAt) killed = upstash.kill();
        if (index === outage.restartAt) restarted = (async () => (await killed, await upstash.restart()))();
        const res = await edge.fetch(
          '/v2/models/silero-vad/infer',
          postJson({ inputs: vadFrames(1 + (index % 3)) }, { authorization: `Bearer ${caller.apiKey}`, 'cache-control': 'no-store' }),
        );
        await res.arrayBuffer();
        if (res.status === 200) {
          served++;
          unitsServed += Number(res.headers.get('x-edgeinfer-units'));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await restarted;
    // Fail-open rate limiting: the outage costs no answers, only the limit's accuracy while it lasts.
    expect(served).toBe(total);
    expect(edge.logs.some((line) => line.includes('metering-store-unavailable'))).toBe(true);

    const usage = await settledUsage(edge, caller.apiKey, served, 120_000);
    expect(usage.total.requests).toBe(served);
    expect(usage.total.units).toBe(unitsServed);
  });

  it('answers a usage read with 503 and Retry-After at its timeout while Redis hangs', async () => {
    upstash.pause();
    try {
      const res = await usageOf(edge, edge.key.apiKey, today(), today());
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await res.json()) as { error: string }).error).toBe(
        `the usage store (Upstash Redis) did not answer within ${readTimeoutMs} ms; try again shortly`,
      );
    } finally {
      upstash.resume();
    }
    expect((await usageOf(edge, edge.key.apiKey)).status).toBe(200);
  });
});
