// The response cache in the real edge (workerd's Cache API), on silero-vad, which runs at the edge
// and whose manifest marks it deterministic.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedApiKey } from '../support/api-keys.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { tensor } from '../support/infer.ts';
import { settledUsage } from '../support/metering.ts';

const path = '/v2/models/silero-vad/infer';
let seed = 0;
/** A request no other test sends: each test starts from an empty cache entry. */
function freshFrame(): { inputs: ReturnType<typeof tensor>[]; id?: string } {
  seed += 1;
  return {
    inputs: [
      tensor(
        'input',
        'FP32',
        [1, 576],
        new Float32Array(576).map((_, i) => Math.sin((i + seed * 31) / 7) * 0.2),
      ),
      tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
      tensor('sr', 'INT64', [], [16000]),
    ],
  };
}
const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

describe('response cache', () => {
  let edge: RunningWorker;
  beforeAll(async () => {
    // A day's window: the rate-limit counts compared across requests cannot straddle a window's end.
    edge = await startEdgeWorker({ vars: { RATE_LIMIT_WINDOW_MS: String(86_400_000) } });
  });
  afterAll(async () => {
    await edge?.stop();
  });

  it('stores a miss and answers the identical request from the cache with the same body', async () => {
    const body = JSON.stringify(freshFrame());
    const miss = await edge.fetch(path, post(body));
    expect(miss.status).toBe(200);
    expect(miss.headers.get('cache-status')).toBe('edgeinfer; fwd=miss; stored');
    const missBody = await miss.text();
    const hit = await edge.fetch(path, post(body));
    expect(hit.headers.get('cache-status')).toBe('edgeinfer; hit');
    expect(hit.headers.get('x-edgeinfer-tier')).toBe(miss.headers.get('x-edgeinfer-tier'));
    expect(await hit.text()).toBe(missBody);
  });

  it('takes a request with its keys reordered and spaced differently as identical', async () => {
    const frame = freshFrame();
    await (await edge.fetch(path, post(JSON.stringify(frame)))).arrayBuffer();
    const reordered = JSON.stringify(
      { inputs: [...frame.inputs].reverse().map(({ data, shape, datatype, name }) => ({ data, shape, datatype, name })) },
      null,
      2,
    );
    const hit = await edge.fetch(path, post(reordered));
    expect(hit.headers.get('cache-status')).toBe('edgeinfer; hit');
  });

  it('misses for a different input or a different request id', async () => {
    const frame = freshFrame();
    await (await edge.fetch(path, post(JSON.stringify(frame)))).arrayBuffer();
    const other = await edge.fetch(path, post(JSON.stringify(freshFrame())));
    expect(other.headers.get('cache-status')).toBe('edgeinfer; fwd=miss; stored');
    const withId = await edge.fetch(path, post(JSON.stringify({ ...frame, id: 'another-id' })));
    expect(withId.headers.get('cache-status')).toBe('edgeinfer; fwd=miss; stored');
    expect(((await withId.json()) as { id: string }).id).toBe('another-id');
  });

  it("bypasses the cache for a caller's Cache-Control: no-store, even with an answer stored", async () => {
    const body = JSON.stringify(freshFrame());
    const bypass = await edge.fetch(path, post(body, { 'cache-control': 'no-store' }));
    expect(bypass.headers.get('cache-status')).toBe('edgeinfer; fwd=bypass; detail=no-store');
    await (await edge.fetch(path, post(body))).arrayBuffer();
    const again = await edge.fetch(path, post(body, { 'cache-control': 'no-cache, no-store' }));
    expect(again.headers.get('cache-status')).toBe('edgeinfer; fwd=bypass; detail=no-store');
    expect(again.status).toBe(200);
  });

  it("never answers one owner's request from another owner's entry; the same owner's other key shares it", async () => {
    const body = JSON.stringify(freshFrame());
    await (await edge.fetch(path, post(body))).arrayBuffer();
    const stranger = await seedApiKey(edge.apiKeys, { owner: 'another-tenant' });
    const colleague = await seedApiKey(edge.apiKeys);
    const theirs = await edge.fetch(path, post(body, { authorization: `Bearer ${stranger.apiKey}` }));
    expect(theirs.headers.get('cache-status')).toBe('edgeinfer; fwd=miss; stored');
    const ours = await edge.fetch(path, post(body, { authorization: `Bearer ${colleague.apiKey}` }));
    expect(ours.headers.get('cache-status')).toBe('edgeinfer; hit');
  });

  it('charges a hit one request against the plan and meters it at the hit price, however much work the stored answer took', async () => {
    // Eight frames in one batch: 8 × 576 samples and 8 states, 6657 elements, 7 units of work.
    const batch = {
      inputs: [
        tensor(
          'input',
          'FP32',
          [8, 576],
          new Float32Array(8 * 576).map((_, i) => Math.cos((i + seed * 13) / 5) * 0.1),
        ),
        tensor('state', 'FP32', [2, 8, 128], new Float32Array(2 * 8 * 128)),
        tensor('sr', 'INT64', [], [16000]),
      ],
    };
    seed += 1;
    const body = JSON.stringify(batch);
    const remaining = (response: Response) => Number(response.headers.get('ratelimit-remaining'));
    // A key of its own, so its usage record holds these two requests only.
    const caller = await seedApiKey(edge.apiKeys);
    const auth = { authorization: `Bearer ${caller.apiKey}` };
    const before = await edge.fetchWithoutCredentials('/v1/usage', { headers: auth });
    await before.arrayBuffer();
    const miss = await edge.fetchWithoutCredentials(path, post(body, auth));
    await miss.arrayBuffer();
    expect(miss.headers.get('cache-status')).toBe('edgeinfer; fwd=miss; stored');
    expect(remaining(before) - remaining(miss)).toBe(7);
    const hit = await edge.fetchWithoutCredentials(path, post(body, auth));
    await hit.arrayBuffer();
    expect(hit.headers.get('cache-status')).toBe('edgeinfer; hit');
    expect(remaining(miss) - remaining(hit)).toBe(1);
    expect(hit.headers.get('x-edgeinfer-units')).toBe('0');
    // What the operator invoices from: two requests, the miss's 7 units and the hit's 0.
    const usage = await settledUsage(edge, caller.apiKey, 2);
    expect(usage.total).toMatchObject({ requests: 2, units: 7 });
    expect(usage.total.models['silero-vad']).toMatchObject({ requests: 2, units: 7 });
  });

  it('answers a refused request without consulting the cache', async () => {
    const body = JSON.stringify(freshFrame());
    await (await edge.fetch(path, post(body))).arrayBuffer();
    expect((await edge.fetchWithoutCredentials(path, post(body))).status).toBe(401);
  });
});
