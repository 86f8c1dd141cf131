// The client against the real edge Worker in workerd, metering into a real Redis behind the local
// Upstash endpoint: inference, usage, the task route and the errors the gateway answers.

import { servedVersions } from '../support/serving.ts';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../infra/local/local-upstash.ts';
import { createClient, EdgeinferError, responseMeta } from '../../client/index.ts';
import { type RunningWorker, repoRoot, startEdgeWorker } from '../support/edge-worker.ts';
import { tensor } from '../support/infer.ts';

let upstash: LocalUpstash;
let edge: RunningWorker;
beforeAll(async () => {
  upstash = await startLocalUpstash();
  edge = await startEdgeWorker({ vars: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token } });
});
afterAll(async () => {
  await edge?.stop();
  await upstash?.stop();
});

const today = new Date().toISOString().slice(0, 10);
const client = () => createClient({ baseUrl: edge.url, apiKey: edge.key.apiKey });

describe('client against the edge', () => {
  it('runs silero-vad through infer() and reads where it ran', async () => {
    const result = await client().infer('silero-vad', {
      id: 'frame-1',
      inputs: [
        tensor('input', 'FP32', [1, 576], new Float32Array(576)),
        tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
        tensor('sr', 'INT64', [], [16000]),
      ],
    });
    expect(result).toMatchObject({
      model_name: 'silero-vad',
      model_version: (await servedVersions('edge', ['silero-vad']))['silero-vad'],
      id: 'frame-1',
    });
    expect(result.outputs.find((output) => output.name === 'output')?.shape).toEqual([1, 1]);
    // One unit (833 input elements), at the pro plan's default price.
    expect(responseMeta(result)).toMatchObject({
      tier: 'edge',
      provider: 'wasm',
      units: 1,
      cost: { amount: 0.0001, currency: 'USD' },
      attempts: 1,
    });
    expect(responseMeta(result)?.requestId).toBeTruthy();
  });

  it('reads the usage the inference was metered as', async () => {
    // Metering is written after the answer (waitUntil): poll until it is in.
    await expect
      .poll(async () => (await client().usage({ from: today, to: today })).total.requests, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(1);
    const usage = await client().usage({ from: today, to: today });
    expect(usage.keyId).toBe(edge.key.record.id);
    expect(usage.days.map((day) => day.date)).toEqual([today]);
    expect(usage.total.requestsByTier.edge).toBeGreaterThanOrEqual(1);
    expect(usage.currency).toBe('USD');
    expect(usage.total.models['silero-vad']).toMatchObject({ requests: usage.total.requests, units: usage.total.units });
    expect(usage.total.cost).toBeCloseTo(usage.total.units * 0.0001, 12);
  });

  it('turns the gateway refusals into EdgeinferError without retrying them', async () => {
    const wrongKey = createClient({ baseUrl: edge.url, apiKey: 'ei_live_not-a-key' });
    const unauthorized = await wrongKey.usage({ from: today, to: today }).catch((err: unknown) => err);
    expect(unauthorized).toBeInstanceOf(EdgeinferError);
    expect(unauthorized).toMatchObject({ status: 401, attempts: 1 });
    expect((unauthorized as EdgeinferError).requestId).toBeTruthy();

    const badRange = await client()
      .usage({ from: today, to: '2020-01-01' })
      .catch((err: unknown) => err);
    expect(badRange).toMatchObject({ status: 400, attempts: 1, message: expect.stringMatching(/usage query/) });
  });

  it('finds the speech in a real recording with vad() (POST /v1/vad)', async () => {
    // test/fixtures/README.md: one phrase after 0.4 s of silence, followed by 0.6 s of silence.
    const wav = readFileSync(`${repoRoot}/test/fixtures/speech-16k.wav`);
    const result = await client().vad(new Blob([wav], { type: 'audio/wav' }));
    expect(result.sample_rate).toBe(16000);
    expect(result.models).toMatchObject({ 'silero-vad': expect.any(String) });
    expect(result.segments.length).toBeGreaterThanOrEqual(1);
    expect(result.segments[0]!.start_ms).toBeGreaterThan(250);
    expect(result.segments[0]!.start_ms).toBeLessThan(600);
    expect(result.segments.at(-1)!.end_ms).toBeLessThan(result.duration_ms - 300);
    expect(responseMeta(result)?.tier).toBe('edge');

    const batch = await client().vadBatch([wav, wav], { threshold: 0.6 });
    expect(batch.results).toHaveLength(2);
    expect(batch.results[1]!.segments.length).toBeGreaterThanOrEqual(1);
  });
});
