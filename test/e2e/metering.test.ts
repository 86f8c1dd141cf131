// Usage metering against a real redis-server behind the local Upstash REST endpoint: after K
// concurrent inferences the totals are exactly what was sent, per key, and a key reads only its own.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../infra/local/local-upstash.ts';
import { seedApiKey, type SeededKey } from '../support/api-keys.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageResponse } from '../../protocol/usage.ts';
import { repoRoot, type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

// Each request must run its model, so the response cache (edge/cache/) is bypassed.
const noStore = { 'cache-control': 'no-store' };

let upstash: LocalUpstash;
let edge: RunningWorker;
let other: SeededKey;

beforeAll(async () => {
  upstash = await startLocalUpstash();
  edge = await startEdgeWorker({ vars: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token } });
  other = await seedApiKey(edge.apiKeys, { owner: 'someone-else' });
});
afterAll(async () => {
  await edge?.stop();
  await upstash?.stop();
});

const frame = [
  tensor('input', 'FP32', [1, 576], new Float32Array(576).fill(0.01)),
  tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
  tensor('sr', 'INT64', [], [16000]),
];
const elementsPerRequest = 576 + 256 + 1;
const today = new Date().toISOString().slice(0, 10);

type Usage = {
  keyId: string;
  days: { date: string; requests: number }[];
  total: { requests: number; inputElements: number; computeMs: number; requestsByTier: Record<string, number> };
};

async function usageOf(apiKey: string, query = `from=${today}&to=${today}`): Promise<Response> {
  return edge.fetch(`/v1/usage?${query}`, { headers: { authorization: `Bearer ${apiKey}` } });
}

/** Metering is written after each answer (waitUntil); wait until `expected` requests are in. */
async function settledUsage(apiKey: string, expected: number): Promise<Usage> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const usage = (await (await usageOf(apiKey)).json()) as Usage;
    if (usage.total.requests >= expected) return usage;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`usage never reached ${expected} requests`);
}

describe('usage metering', () => {
  it('totals exactly the requests and input elements sent, per key, after concurrent inferences', async () => {
    const mine = 12;
    const theirs = 3;
    const responses = await Promise.all([
      ...Array.from({ length: mine }, () => edge.fetch('/v2/models/silero-vad/infer', postJson({ inputs: frame }, noStore))),
      ...Array.from({ length: theirs }, () =>
        edge.fetch('/v2/models/silero-vad/infer', postJson({ inputs: frame }, { authorization: `Bearer ${other.apiKey}`, ...noStore })),
      ),
    ]);
    expect(responses.map((r) => r.status)).toEqual(Array(mine + theirs).fill(200));

    const usage = await settledUsage(edge.key.apiKey, mine);
    expect(usage.keyId).toBe(edge.key.record.id);
    expect(usage.total).toMatchObject({ requests: mine, inputElements: mine * elementsPerRequest, requestsByTier: { edge: mine } });
    expect(usage.total.computeMs).toBeGreaterThan(0);
    expect(usage.days).toEqual([expect.objectContaining({ date: today, requests: mine })]);

    const theirUsage = await settledUsage(other.apiKey, theirs);
    expect(theirUsage.total).toMatchObject({ requests: theirs, inputElements: theirs * elementsPerRequest });
  });

  it('meters a task request by its work: milliseconds of audio for /v1/vad', async () => {
    const caller = await seedApiKey(edge.apiKeys, { owner: 'task-caller' });
    const wav = new Uint8Array(readFileSync(join(repoRoot, 'test/fixtures/speech-16k.wav')));
    const res = await edge.fetch('/v1/vad', {
      method: 'POST',
      headers: { 'content-type': 'audio/wav', authorization: `Bearer ${caller.apiKey}` },
      body: wav,
    });
    expect(res.status).toBe(200);
    const { duration_ms: durationMs } = (await res.json()) as { duration_ms: number };
    const settled = UsageResponse.parse(await settledUsage(caller.apiKey, 1));
    expect(settled.total).toMatchObject({ requests: 1, inputElements: 0, requestsByTier: { edge: 1 } });
    expect(settled.total.work.audio_ms).toBe(Math.round(durationMs));
  });

  it('lists every day of the range, empty days included', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const usage = (await (await usageOf(edge.key.apiKey, `from=${yesterday}&to=${today}`)).json()) as Usage;
    expect(usage.days.map((d) => d.date)).toEqual([yesterday, today]);
    expect(usage.days[0]!.requests).toBe(0);
  });

  it('refuses a malformed or too long range with 400, and a caller without credentials with 401', async () => {
    for (const query of [
      'from=2026-13-01&to=2026-12-01',
      `from=${today}`,
      'from=2026-03-01&to=2026-01-01',
      'from=2025-01-01&to=2026-01-01',
    ]) {
      const res = await usageOf(edge.key.apiKey, query);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/usage query/);
    }
    expect((await edge.fetchWithoutCredentials(`/v1/usage?from=${today}&to=${today}`)).status).toBe(401);
  });
});

describe('usage without Redis', () => {
  let bare: RunningWorker;
  beforeAll(async () => {
    bare = await startEdgeWorker();
  });
  afterAll(() => bare?.stop());

  it('still serves inference, and says plainly that usage is not recorded', async () => {
    expect((await bare.fetch('/v2/models/silero-vad/infer', postJson({ inputs: frame }))).status).toBe(200);
    const res = await bare.fetch(`/v1/usage?from=${today}&to=${today}`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/UPSTASH_REDIS_REST_URL/);
  });
});
