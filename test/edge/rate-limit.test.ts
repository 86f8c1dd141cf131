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
import { buildWav, pcm16Bytes } from '../support/speech.ts';

// A window far longer than any test: counts never reset or slide while a test runs, so nothing here
// depends on the wall clock (the reset itself is tested with an injected clock in rate-limit-rules).
const windowMs = 86_400_000;
// Far above any round trip to a local redis-server, however loaded the machine: these tests count,
// they do not time the limiter (the timeout has its own tests below).
const patientTimeoutMs = '10000';
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

/** A different client address for each test, so their counters never meet. */
let nextIp = 1;
const freshIp = () => `203.0.113.${nextIp++}`;

/** A mono 16 kHz 16-bit WAV of `seconds` of a quiet tone. */
function wavOf(seconds: number): Uint8Array {
  return buildWav({ data: pcm16Bytes(Array.from({ length: seconds * 16_000 }, (_, i) => 0.1 * Math.sin(i / 10))) });
}

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
        RATE_LIMIT_TIMEOUT_MS: patientTimeoutMs,
        RATE_LIMIT_FREE: '3',
        RATE_LIMIT_FAILED_AUTH_PER_IP: '4',
        RATE_LIMIT_PUBLIC_PER_IP: '3',
      },
    });
    free = await seedApiKey(edge.apiKeys, { plan: 'free' });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstash?.stop();
  });

  it('answers request N+1 with 429, the RateLimit headers and a Retry-After within the window', async () => {
    const ip = freshIp();
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
  });

  it('counts each key on its own: another key of the same plan is not limited by the first', async () => {
    const ip = freshIp();
    const other = await seedApiKey(edge.apiKeys, { plan: 'free' });
    const first = await seedApiKey(edge.apiKeys, { plan: 'free' });
    for (let i = 0; i < 3; i++) await (await infer(edge, first.apiKey, ip)).arrayBuffer();
    expect((await infer(edge, first.apiKey, ip)).status).toBe(429);
    expect((await infer(edge, other.apiKey, ip)).status).toBe(200);
  });

  it('refuses a model the key may not run before charging its plan, and puts the plan headers on a bad body', async () => {
    const ip = freshIp();
    const key = await seedApiKey(edge.apiKeys, { plan: 'free' });
    const narrow = await seedApiKey(edge.apiKeys, { plan: 'free', models: ['paddleocr-cls'] });
    const forbidden = await infer(edge, narrow.apiKey, ip);
    expect(forbidden.status).toBe(403);
    expect(rateLimitHeaders(forbidden).remaining).toBeNull();
    const badBody = await edge.fetchWithoutCredentials(
      '/v2/models/silero-vad/infer',
      postJson({ inputs: 'none' }, { authorization: `Bearer ${key.apiKey}`, 'cf-connecting-ip': ip }),
    );
    expect(badBody.status).toBe(400);
    expect(badBody.headers.get('ratelimit-limit')).toBe('3');
    expect(badBody.headers.get('ratelimit-remaining')).not.toBeNull();
  });

  it("answers 413 naming the plan's limit for work that weighs more than the plan's whole window, and charges nothing", async () => {
    const key = await seedApiKey(edge.apiKeys, { plan: 'free', models: ['silero-vad'] });
    // 35 s of audio weighs 4 units (one per started 10 s): more than the free plan's 3 per window, ever.
    const res = await edge.fetchWithoutCredentials('/v1/vad', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'audio/wav', 'cf-connecting-ip': freshIp() },
      body: wavOf(35) as Uint8Array<ArrayBuffer>,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(((await res.json()) as { error: string }).error).toMatch(/weighs 4 units .* free plan's whole limit of 3 per 86400 s/);
    // Nothing was charged: a request that fits is served with the whole allowance left but its own unit.
    const fits = await edge.fetchWithoutCredentials('/v1/vad', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'audio/wav', 'cf-connecting-ip': freshIp() },
      body: wavOf(5) as Uint8Array<ArrayBuffer>,
    });
    expect(fits.status).toBe(200);
    expect(fits.headers.get('ratelimit-remaining')).toBe('2');
  });

  it('throttles guessed keys per IP: 401 until the limit, then 429 for every credential from that IP, valid ones included', async () => {
    const ip = freshIp();
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

    // Refused before the credential is looked up: a key this isolate has not seen valid waits out the window too.
    const unseen = await seedApiKey(edge.apiKeys, { plan: 'free' });
    const valid = await infer(edge, unseen.apiKey, ip);
    expect(valid.status).toBe(429);
    expect(((await valid.json()) as { error: string }).error).toMatch(/too many failed authentications/);
    // Other addresses are not affected.
    expect((await infer(edge, unseen.apiKey, freshIp())).status).toBe(200);
  });

  it('looks up at most the limit in a concurrent burst of guesses from one address, and gives valid credentials their attempt back', async () => {
    const ip = freshIp();
    // Valid keys from the address first: each takes an attempt and gives it back once found valid.
    for (let i = 0; i < 3; i++) expect((await infer(edge, (await seedApiKey(edge.apiKeys)).apiKey, ip)).status).toBe(200);
    const auditedBefore = edge.logs.filter((line) => line.includes('"event":"auth-failed"') && line.includes(ip)).length;
    const burst = await Promise.all(Array.from({ length: 40 }, () => infer(edge, generateApiKey(), ip)));
    const statuses = burst.map((r) => r.status);
    // Every 401 is a credential that was looked up; the limit is 4.
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(36);
    const audited = edge.logs.filter((line) => line.includes('"event":"auth-failed"') && line.includes(ip));
    expect(audited.length - auditedBefore).toBe(4);
  });

  it('limits the public routes per address: metadata, health and the playground, never the credentialed ones', async () => {
    const ip = freshIp();
    const paths = ['/v2/models/silero-vad', '/v2/health/ready', '/'];
    const answers = [];
    for (const path of paths) answers.push(await edge.fetchWithoutCredentials(path, { headers: { 'cf-connecting-ip': ip } }));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(answers.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);
    const refused = await edge.fetchWithoutCredentials('/v2/models/paddleocr-rec/ready', { headers: { 'cf-connecting-ip': ip } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: string }).error).toMatch(/too many requests from this address/);
    // The address's credentialed calls are counted against their key, not against its public allowance.
    expect((await infer(edge, (await seedApiKey(edge.apiKeys)).apiKey, ip)).status).toBe(200);
  });
});

async function workerWithRedis(failureMode: 'open' | 'closed'): Promise<{ upstash: LocalUpstash; edge: RunningWorker }> {
  const upstash = await startLocalUpstash();
  const edge = await startEdgeWorker({
    vars: {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      RATE_LIMIT_FAILURE_MODE: failureMode,
      // Long enough that a healthy round trip on a loaded machine never reaches it; the pause below is longer.
      RATE_LIMIT_TIMEOUT_MS: '1000',
      // The key stays known to the isolate, so only the plan's limiter asks Redis (a key read afresh
      // would first take a failed-authentication attempt of its address, a second round trip).
      API_KEY_CACHE_TTL_MS: '600000',
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

    await pauseRedis(upstash, 6_000);
    const slow = await timed(() => infer(edge, edge.key.apiKey, ip));
    expect(slow.res.status).toBe(status);
    // Answered by the timeout, not by the pause ending.
    expect(slow.elapsedMs).toBeLessThan(5_000);

    await upstash.stop();
    const down = await timed(() => infer(edge, edge.key.apiKey, ip));
    expect(down.res.status).toBe(status);
    expect(down.elapsedMs).toBeLessThan(5_000);
    if (status === 503) {
      expect(down.res.headers.get('retry-after')).toBe('1');
      expect(((await down.res.json()) as { error: string }).error).toMatch(/rate limiting is unavailable/);
    } else {
      // Served without a count: no RateLimit headers claim a number nobody counted.
      expect(down.res.headers.get('ratelimit-remaining')).toBeNull();
    }

    // The plan's limiter is what these requests wait on. The first request's key was read afresh, so
    // its address's failed-authentication attempt is given back in waitUntil after the answer; on a
    // loaded machine that can land in the pause and log its own timeout, which no answer waited on.
    const lines = unavailableLines(edge).filter((line) => line.limiter === 'plan');
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
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await infer(edge, free.apiKey, ip));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses.map((r) => rateLimitHeaders(r).remaining)).toEqual(['1', '0', '0']);
    expect(Number(statuses[2]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(edge.logs.filter((line) => line.includes('rate limits are counted in memory'))).toHaveLength(1);
  });
});
