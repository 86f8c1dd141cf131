// Rate limiting in the real Worker (workerd) against a real redis-server behind the local Upstash
// REST endpoint: the limit per plan and its reset, failed authentications throttled per IP, Redis
// slow or down under each failure policy, and the in-memory fallback without Upstash.

import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../protocol/api-keys.ts';
import { type LocalUpstash, startLocalUpstash } from '../../infra/local/local-upstash.ts';
import { seedApiKey, type SeededKey } from '../support/api-keys.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

const windowMs = 2_000;
const frame = {
  inputs: [
    tensor('input', 'FP32', [1, 576], new Float32Array(576)),
    tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
    tensor('sr', 'INT64', [], [16000]),
  ],
};

function infer(edge: RunningWorker, apiKey: string, ip: string): Promise<Response> {
  return edge.fetchWithoutCredentials(
    '/v2/models/silero-vad/infer',
    postJson(frame, { authorization: `Bearer ${apiKey}`, 'cf-connecting-ip': ip }),
  );
}

const rateLimitHeaders = (res: Response) => ({
  limit: res.headers.get('ratelimit-limit'),
  remaining: res.headers.get('ratelimit-remaining'),
  reset: res.headers.get('ratelimit-reset'),
  retryAfter: res.headers.get('retry-after'),
});

/** Starts a burst just after a window boundary, so the whole burst lands in one window. */
async function atWindowStart(): Promise<void> {
  const intoWindowMs = Date.now() % windowMs;
  if (intoWindowMs > 200) await new Promise((resolve) => setTimeout(resolve, windowMs - intoWindowMs + 20));
}

async function untilReset(res: Response): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('ratelimit-reset')) * 1000));
}

/** A different client address for each test, so their counters never meet. */
let nextIp = 1;
const freshIp = () => `203.0.113.${nextIp++}`;

describe('rate limits on Upstash (real redis-server)', () => {
  let upstash: LocalUpstash;
  let edge: RunningWorker;
  let free: SeededKey;
  beforeAll(async () => {
    upstash = await startLocalUpstash();
    edge = await startEdgeWorker({
      vars: {
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        RATE_LIMIT_WINDOW_MS: String(windowMs),
        RATE_LIMIT_FREE: '3',
        RATE_LIMIT_FAILED_AUTH_PER_IP: '4',
      },
    });
    free = await seedApiKey(edge.apiKeys, { plan: 'free' });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstash?.stop();
  });

  it('answers request N+1 with 429, the RateLimit headers and Retry-After, and serves again once the window resets', async () => {
    const ip = freshIp();
    await atWindowStart();
    const served = [];
    for (let i = 0; i < 3; i++) served.push(await infer(edge, free.apiKey, ip));
    expect(served.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(served.map((r) => rateLimitHeaders(r).remaining)).toEqual(['2', '1', '0']);
    for (const res of served) {
      expect(rateLimitHeaders(res)).toMatchObject({ limit: '3', retryAfter: null });
      expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(windowMs / 1000);
    }

    const refused = await infer(edge, free.apiKey, ip);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await refused.json()) as { error: string }).error).toMatch(/rate limit of the free plan/);
    const headers = rateLimitHeaders(refused);
    expect(headers).toMatchObject({ limit: '3', remaining: '0' });
    expect(Number(headers.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(headers.retryAfter)).toBe(Math.max(1, Number(headers.reset)));

    // The window is sliding: the next one starts with the last one's requests weighed in, and a full
    // allowance returns one window later. Waiting up to the reset is within one window.
    await untilReset(refused);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const again = await infer(edge, free.apiKey, ip);
    expect(again.status).toBe(200);
    expect(rateLimitHeaders(again)).toMatchObject({ limit: '3', remaining: '2' });
  });

  it('counts each key on its own: another key of the same plan is not limited by the first', async () => {
    const ip = freshIp();
    const other = await seedApiKey(edge.apiKeys, { plan: 'free' });
    const first = await seedApiKey(edge.apiKeys, { plan: 'free' });
    await atWindowStart();
    for (let i = 0; i < 3; i++) await (await infer(edge, first.apiKey, ip)).arrayBuffer();
    expect((await infer(edge, first.apiKey, ip)).status).toBe(429);
    expect((await infer(edge, other.apiKey, ip)).status).toBe(200);
  });

  it('puts the RateLimit headers on errors after authentication too: 403 for a model the key may not run, 400 for a bad body', async () => {
    const ip = freshIp();
    const narrow = await seedApiKey(edge.apiKeys, { plan: 'free', models: ['paddleocr-cls'] });
    const forbidden = await infer(edge, narrow.apiKey, ip);
    expect(forbidden.status).toBe(403);
    expect(rateLimitHeaders(forbidden)).toMatchObject({ limit: '3', remaining: '2' });
    const badBody = await edge.fetchWithoutCredentials(
      '/v2/models/silero-vad/infer',
      postJson({ inputs: 'none' }, { authorization: `Bearer ${free.apiKey}`, 'cf-connecting-ip': ip }),
    );
    expect(badBody.status).toBe(400);
    expect(badBody.headers.get('ratelimit-limit')).toBe('3');
    expect(badBody.headers.get('ratelimit-remaining')).not.toBeNull();
  });

  it('throttles guessed keys per IP: 401 until the limit, then 429 for every credential from that IP, valid ones included', async () => {
    const ip = freshIp();
    await atWindowStart();
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push(await infer(edge, generateApiKey(), ip));
    expect(guesses.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect(guesses.map((r) => rateLimitHeaders(r).remaining)).toEqual(['3', '2', '1', '0']);
    expect(guesses[0]!.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const fifth = await infer(edge, generateApiKey(), ip);
    expect(fifth.status).toBe(429);
    expect(rateLimitHeaders(fifth)).toMatchObject({ limit: '4', remaining: '0' });
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await fifth.json()) as { error: string }).error).toMatch(/too many failed authentications/);

    // Refused before the credential is looked up: a valid key from that address waits out the window too.
    const valid = await infer(edge, free.apiKey, ip);
    expect(valid.status).toBe(429);
    expect(((await valid.json()) as { error: string }).error).toMatch(/too many failed authentications/);
    // Other addresses are not affected.
    expect((await infer(edge, free.apiKey, freshIp())).status).toBe(200);

    await untilReset(fifth);
    expect((await infer(edge, free.apiKey, ip)).status).toBe(200);
  });
});

async function workerWithRedis(failureMode: 'open' | 'closed'): Promise<{ upstash: LocalUpstash; edge: RunningWorker }> {
  const upstash = await startLocalUpstash();
  const edge = await startEdgeWorker({
    vars: {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      RATE_LIMIT_FAILURE_MODE: failureMode,
      RATE_LIMIT_TIMEOUT_MS: '150',
    },
  });
  return { upstash, edge };
}

async function timed(run: () => Promise<Response>): Promise<{ res: Response; elapsedMs: number }> {
  const started = performance.now();
  const res = await run();
  await res.clone().arrayBuffer();
  return { res, elapsedMs: performance.now() - started };
}

const unavailableLines = (edge: RunningWorker) =>
  edge.logs
    .filter((line) => line.includes('"event":"rate-limiter-unavailable"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

async function pauseRedis(upstash: LocalUpstash, ms: number): Promise<void> {
  const res = await fetch(upstash.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${upstash.token}` },
    body: JSON.stringify(['CLIENT', 'PAUSE', ms, 'ALL']),
  });
  expect(res.status).toBe(200);
}

describe.each([
  { failureMode: 'open' as const, status: 200 },
  { failureMode: 'closed' as const, status: 503 },
])('Redis slow, then stopped, with RATE_LIMIT_FAILURE_MODE=$failureMode', ({ failureMode, status }) => {
  let upstash: LocalUpstash;
  let edge: RunningWorker;
  beforeAll(async () => {
    ({ upstash, edge } = await workerWithRedis(failureMode));
  });
  afterAll(async () => {
    await edge?.stop();
    await upstash?.stop();
  });

  it(`answers ${status} within the timeout, never hangs, and logs which policy applied`, async () => {
    const ip = freshIp();
    expect((await infer(edge, edge.key.apiKey, ip)).status).toBe(200);

    await pauseRedis(upstash, 1_500);
    const slow = await timed(() => infer(edge, edge.key.apiKey, ip));
    expect(slow.res.status).toBe(status);
    expect(slow.elapsedMs).toBeLessThan(1_000);

    await upstash.stop();
    const down = await timed(() => infer(edge, edge.key.apiKey, ip));
    expect(down.res.status).toBe(status);
    expect(down.elapsedMs).toBeLessThan(1_000);
    if (status === 503) {
      expect(down.res.headers.get('retry-after')).toBe('1');
      expect(((await down.res.json()) as { error: string }).error).toMatch(/rate limiting is unavailable/);
    } else {
      // Served without a count: no RateLimit headers claim a number nobody counted.
      expect(down.res.headers.get('ratelimit-remaining')).toBeNull();
    }

    const lines = unavailableLines(edge);
    expect(lines.map((line) => line.reason)).toEqual(['timeout', 'error']);
    for (const line of lines) {
      expect(line).toMatchObject({
        limiter: 'plan',
        failureMode,
        action: failureMode === 'open' ? 'served without a limit' : 'refused with 503',
      });
      expect(JSON.stringify(line)).not.toContain(upstash.token);
    }
  });
});

describe('rate-limit analytics', () => {
  let upstash: LocalUpstash;
  let edge: RunningWorker;
  beforeAll(async () => {
    upstash = await startLocalUpstash();
    edge = await startEdgeWorker({
      vars: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token, RATE_LIMIT_ANALYTICS: 'true' },
    });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstash?.stop();
  });

  it('writes the limiter analytics in the background (waitUntil), where the Upstash dashboard reads them', async () => {
    expect((await infer(edge, edge.key.apiKey, freshIp())).status).toBe(200);
    const redis = new Redis({ url: upstash.url, token: upstash.token });
    let events: string[] = [];
    for (let attempt = 0; attempt < 100 && events.length === 0; attempt++) {
      events = await redis.keys('ratelimit:plan:pro:events:*');
      if (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(events).toHaveLength(1);
    const members = await redis.zrange<string[]>(events[0]!, 0, -1);
    expect(JSON.stringify(members)).toContain(edge.key.record.id);
  });
});

describe('without Upstash', () => {
  let edge: RunningWorker;
  let free: SeededKey;
  beforeAll(async () => {
    edge = await startEdgeWorker({ vars: { RATE_LIMIT_FREE: '2', RATE_LIMIT_WINDOW_MS: String(windowMs) } });
    free = await seedApiKey(edge.apiKeys, { plan: 'free' });
  });
  afterAll(() => edge?.stop());

  it('limits in memory with the same headers and 429, and says so once at start', async () => {
    const ip = freshIp();
    await atWindowStart();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await infer(edge, free.apiKey, ip));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses.map((r) => rateLimitHeaders(r).remaining)).toEqual(['1', '0', '0']);
    expect(Number(statuses[2]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(edge.logs.filter((line) => line.includes('rate limits are counted in memory'))).toHaveLength(1);
  });
});
