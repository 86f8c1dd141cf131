// Usage metering against a real redis-server behind the local Upstash REST endpoint: every served
// request goes through the metering queue (workerd's local Queues) into Redis once, with the units
// its answer said it cost, per key and model, priced by its plan.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../infra/local/local-upstash.ts';
import { countUnits } from '../../models/units.ts';
import { UsageResponse } from '../../protocol/usage.ts';
import { seedApiKey } from '../support/api-keys.ts';
import { repoRoot, type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';
import { settledUsage, today, vadFrames } from '../support/metering.ts';

// Each request must run its model, so the response cache (edge/cache/) is bypassed.
const noStore = { 'cache-control': 'no-store' };

let upstash: LocalUpstash;
let edge: RunningWorker;
const sileroUnits = JSON.parse(readFileSync(join(repoRoot, 'models/silero-vad/manifest.json'), 'utf8')).units;
// Micro-units of USD per unit on the pro plan (the seeded keys' plan), set here so the test checks the configured price.
const proPriceMicros = 250;

beforeAll(async () => {
  upstash = await startLocalUpstash();
  edge = await startEdgeWorker({
    vars: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token, PRICE_PER_UNIT_PRO: '0.00025' },
  });
});
afterAll(async () => {
  await edge?.stop();
  await upstash?.stop();
});

describe('usage metering', () => {
  it('records exactly N events for N concurrent requests, each with the units its answer carried, per key', async () => {
    const mine = await seedApiKey(edge.apiKeys, { owner: 'concurrent' });
    const other = await seedApiKey(edge.apiKeys, { owner: 'someone-else' });
    const batches = [1, 8, 1, 3, 1, 8, 2, 1, 1, 5, 1, 1];
    const responses = await Promise.all([
      ...batches.map((batch) =>
        edge.fetch(
          '/v2/models/silero-vad/infer',
          postJson({ inputs: vadFrames(batch) }, { authorization: `Bearer ${mine.apiKey}`, ...noStore }),
        ),
      ),
      ...[1, 1, 1].map((batch) =>
        edge.fetch(
          '/v2/models/silero-vad/infer',
          postJson({ inputs: vadFrames(batch) }, { authorization: `Bearer ${other.apiKey}`, ...noStore }),
        ),
      ),
    ]);
    expect(responses.map((r) => r.status)).toEqual(Array(batches.length + 3).fill(200));
    const unitsSent = responses.slice(0, batches.length).map((r) => Number(r.headers.get('x-edgeinfer-units')));
    const elements = (batch: number) => batch * 576 + batch * 256 + 1;
    // The header is the manifest's units for the request: one per started 1000 input elements.
    expect(unitsSent).toEqual(batches.map((batch) => countUnits(sileroUnits, [elements(batch)])));
    expect(responses[0]!.headers.get('x-edgeinfer-cost')).toBe(`${(unitsSent[0]! * proPriceMicros) / 1e6} USD`);

    const usage = await settledUsage(edge, mine.apiKey, batches.length);
    const totalUnits = unitsSent.reduce((a, b) => a + b, 0);
    expect(usage.keyId).toBe(mine.record.id);
    expect(usage.total).toMatchObject({
      requests: batches.length,
      units: totalUnits,
      inputElements: batches.reduce((sum, batch) => sum + elements(batch), 0),
      requestsByTier: { edge: batches.length },
      models: { 'silero-vad': { requests: batches.length, units: totalUnits, cost: (totalUnits * proPriceMicros) / 1e6 } },
    });
    expect(usage.total.cost).toBeCloseTo((totalUnits * proPriceMicros) / 1e6, 12);
    expect(usage.days).toEqual([expect.objectContaining({ date: today(), requests: batches.length, units: totalUnits })]);

    const theirs = await settledUsage(edge, other.apiKey, 3);
    expect(theirs.total).toMatchObject({ requests: 3, units: 3 });
  });

  it('meters a task request by its work and units: milliseconds of audio for /v1/vad', async () => {
    const caller = await seedApiKey(edge.apiKeys, { owner: 'task-caller' });
    const wav = new Uint8Array(readFileSync(join(repoRoot, 'test/fixtures/speech-16k.wav')));
    const res = await edge.fetch('/v1/vad', {
      method: 'POST',
      headers: { 'content-type': 'audio/wav', authorization: `Bearer ${caller.apiKey}` },
      body: wav,
    });
    expect(res.status).toBe(200);
    const { duration_ms: durationMs } = (await res.json()) as { duration_ms: number };
    const units = Number(res.headers.get('x-edgeinfer-units'));
    expect(units).toBe(Math.max(1, Math.ceil(durationMs / 10_000)));
    const settled = UsageResponse.parse(await settledUsage(edge, caller.apiKey, 1));
    expect(settled.total).toMatchObject({ requests: 1, units, inputElements: 0, requestsByTier: { edge: 1 } });
    expect(settled.total.models).toEqual({ 'task:vad': { requests: 1, units, cost: (units * proPriceMicros) / 1e6 } });
    expect(settled.total.work.audio_ms).toBe(Math.round(durationMs));
  });

  it('lists every day of the range, empty days included', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const res = await edge.fetch(`/v1/usage?from=${yesterday}&to=${today()}`);
    const usage = UsageResponse.parse(await res.json());
    expect(usage.days.map((d) => d.date)).toEqual([yesterday, today()]);
    expect(usage.days[0]).toMatchObject({ requests: 0, units: 0, cost: 0 });
  });

  it('refuses a malformed or too long range with 400, and a caller without credentials with 401', async () => {
    for (const query of [
      'from=2026-13-01&to=2026-12-01',
      `from=${today()}`,
      'from=2026-03-01&to=2026-01-01',
      'from=2025-01-01&to=2026-01-01',
    ]) {
      const res = await edge.fetch(`/v1/usage?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/usage query/);
    }
    expect((await edge.fetchWithoutCredentials(`/v1/usage?from=${today()}&to=${today()}`)).status).toBe(401);
  });

  it('charges nothing and records nothing for a refused request', async () => {
    const caller = await seedApiKey(edge.apiKeys, { owner: 'refused' });
    const bad = await edge.fetch(
      '/v2/models/silero-vad/infer',
      postJson({ inputs: [tensor('input', 'FP32', [1, 3], [1, 2])] }, { authorization: `Bearer ${caller.apiKey}` }),
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-edgeinfer-units')).toBeNull();
    const ok = await edge.fetch(
      '/v2/models/silero-vad/infer',
      postJson({ inputs: vadFrames(1) }, { authorization: `Bearer ${caller.apiKey}` }),
    );
    expect(ok.status).toBe(200);
    expect((await settledUsage(edge, caller.apiKey, 1)).total.requests).toBe(1);
  });
});
