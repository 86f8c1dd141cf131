// The Redis usage store (protocol/usage-redis.ts) against a real redis-server behind the local Upstash
// endpoint: an event id is counted once however often it is written, and an export reads every key.

import { Redis } from '@upstash/redis/cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../infra/local/local-upstash.ts';
import { redisUsageStore, type UsageStore } from '../../edge/usage/store.ts';
import { exportLines, summarizeUsage, type UsageEvent } from '../../protocol/usage.ts';

let upstash: LocalUpstash;
let store: UsageStore;
beforeAll(async () => {
  upstash = await startLocalUpstash();
  store = redisUsageStore(new Redis({ url: upstash.url, token: upstash.token, retry: false, enableTelemetry: false }));
});
afterAll(() => upstash?.stop());

const at = Date.UTC(2026, 11, 4, 12);
const event = (eventId: string, keyId: string, model: string, units: number, extra: Partial<UsageEvent> = {}): UsageEvent => ({
  eventId,
  keyId,
  atMs: at,
  model,
  tier: 'edge',
  units,
  costMicros: units * 100,
  inputElements: units * 1000,
  computeUs: 5,
  ...extra,
});

describe('Redis usage store', () => {
  it('counts an event id once, however often a retry writes it', async () => {
    const batch = [event('e-1', 'key_aaaaaaaa', 'silero-vad', 1), event('e-2', 'key_aaaaaaaa', 'silero-vad', 7)];
    expect(await store.record(batch)).toBe(2);
    expect(await store.record(batch)).toBe(0);
    expect(await store.record([...batch, event('e-3', 'key_aaaaaaaa', 'silero-vad', 2)])).toBe(1);
    const { total } = summarizeUsage(await store.rows('2026-12-04', '2026-12-04', 'key_aaaaaaaa'), '2026-12-04', '2026-12-04');
    expect(total).toMatchObject({ requests: 3, units: 10, cost: 0.001, inputElements: 10_000, models: { 'silero-vad': { units: 10 } } });
    expect(await store.monthSpend('key_aaaaaaaa', at)).toEqual({ units: 10, costMicros: 1000 });
  });

  it('reads every key of every day for an export, per key, day, model and tier', async () => {
    await store.record([
      event('x-1', 'key_bbbbbbbb', 'task:vad', 4, { tier: 'gpu', work: { unit: 'audio_ms', amount: 35_000 } }),
      event('x-2', 'key_bbbbbbbb', 'paddleocr-det', 13, { atMs: at + 86_400_000 }),
    ]);
    const rows = await store.rows('2026-12-04', '2026-12-05');
    const lines = exportLines(rows, 'USD').map(({ keyId, date, model, requests, units }) => [keyId, date, model, requests, units]);
    expect(lines).toEqual([
      ['key_aaaaaaaa', '2026-12-04', 'silero-vad', 3, 10],
      ['key_bbbbbbbb', '2026-12-04', 'task:vad', 1, 4],
      ['key_bbbbbbbb', '2026-12-05', 'paddleocr-det', 1, 13],
    ]);
    expect(rows.find((row) => row.model === 'task:vad')).toMatchObject({ tier: 'gpu', work: { audio_ms: 35_000 } });
  });
});
