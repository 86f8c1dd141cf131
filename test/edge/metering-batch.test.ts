// The metering producer (edge/metering.ts): an isolate's usage events leave as one queue batch per
// window, each request's waitUntil lasting until its own event has left; when the queue refuses,
// the batch is written to the store (a real redis-server behind the local Upstash endpoint), and when
// that fails too every event is logged whole. The queue itself, in workerd, is exercised end to end by
// test/e2e/metering*.test.ts.

import { Redis } from '@upstash/redis/cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../infra/local/local-upstash.ts';
import { type MeteringQueue, maxQueueBatch, UsageMeter, type UsageMeterOptions } from '../../edge/metering.ts';
import { redisUsageStore } from '../../edge/usage/store.ts';
import type { UsageEvent } from '../../protocol/usage.ts';

let upstash: LocalUpstash;
beforeAll(async () => {
  upstash = await startLocalUpstash();
});
afterAll(() => upstash?.stop());

/** A producer that keeps what it was sent, or refuses every batch. */
function recordingQueue(refuse = false): MeteringQueue & { batches: UsageEvent[][] } {
  const batches: UsageEvent[][] = [];
  return {
    batches,
    async sendBatch(messages) {
      if (refuse) throw new Error('queue unavailable');
      batches.push([...messages].map((m) => m.body));
    },
  };
}

function meter(options: Partial<UsageMeterOptions>): UsageMeter {
  return new UsageMeter({
    recording: true,
    store: undefined,
    queue: undefined,
    prices: { currency: 'EUR', pricePerUnitMicros: { free: 0, pro: 100 } },
    readTimeoutMs: 2_000,
    writeTimeoutMs: 2_000,
    batchWindowMs: 20,
    log: () => {},
    now: Date.now,
    ...options,
  });
}

/** Charges `count` requests for `keyId`, returning what each handed to waitUntil. */
function chargeMany(m: UsageMeter, keyId: string, count: number): Promise<unknown>[] {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++)
    m.charge({ id: keyId, plan: 'pro' }, { model: 'silero-vad', tier: 'edge', units: 1, inputElements: 833, computeMs: 0 }, (work) =>
      pending.push(work),
    );
  return pending;
}

describe('metering producer', () => {
  it('sends the events charged within one window as one queue batch, each waitUntil lasting until its event left', async () => {
    const queue = recordingQueue();
    const m = meter({ queue });
    const pending = chargeMany(m, 'k-window', 5);
    expect(queue.batches).toEqual([]);
    await Promise.all(pending);
    expect(queue.batches.map((b) => b.length)).toEqual([5]);
    expect(new Set(queue.batches[0]!.map((e) => e.eventId)).size).toBe(5);
    // The next request opens a new window.
    await Promise.all(chargeMany(m, 'k-window', 1));
    expect(queue.batches.map((b) => b.length)).toEqual([5, 1]);
  });

  it('sends at once when a full batch is waiting, without waiting out the window', async () => {
    const queue = recordingQueue();
    const m = meter({ queue, batchWindowMs: 60_000 });
    const pending = chargeMany(m, 'k-full', maxQueueBatch);
    await pending.at(-1);
    expect(queue.batches.map((b) => b.length)).toEqual([maxQueueBatch]);
  });

  it('writes the batch to the store when the queue refuses it, counted once per event', async () => {
    const logs: string[] = [];
    const store = redisUsageStore(new Redis({ url: upstash.url, token: upstash.token, retry: false, enableTelemetry: false }));
    const m = meter({ queue: recordingQueue(true), store, log: (line) => logs.push(line) });
    await Promise.all(chargeMany(m, 'k-fallback', 3));
    expect(logs.filter((l) => l.includes('"metering-enqueue-failed"'))).toHaveLength(1);
    const today = new Date().toISOString().slice(0, 10);
    const rows = await store.rows(today, today, 'k-fallback');
    expect(rows.reduce((sum, r) => sum + r.requests, 0)).toBe(3);
  });

  it('logs every event whole when neither the queue nor the store takes the batch', async () => {
    const logs: string[] = [];
    // A real client on a port nothing listens on.
    const store = redisUsageStore(new Redis({ url: 'http://127.0.0.1:9', token: 'x', retry: false, enableTelemetry: false }));
    const m = meter({ queue: recordingQueue(true), store, log: (line) => logs.push(line) });
    await Promise.all(chargeMany(m, 'k-lost', 2));
    const failed = logs.filter((l) => l.includes('"metering-failed"')).map((l) => JSON.parse(l) as { usage: UsageEvent });
    expect(failed.map((f) => f.usage.keyId)).toEqual(['k-lost', 'k-lost']);
    expect(failed[0]!.usage.units).toBe(1);
  });
});
