// `npm run bench:gateway`: what authentication and rate limiting add to an edge request, side by side
// in one run. Two local Workers serve the same `silero-vad` infer: one with API-key auth and the
// Upstash rate limiter (a real redis-server behind the local REST endpoint), one with both off
// (UNSAFE_LOCAL_BENCHMARK_NO_AUTH, loopback only). Beside them, the limiter's own round trip from
// Node through the same endpoint, so the gateway's cost can be told from the round trip it waits on.
// A counting proxy in front of the endpoint gives the Redis round trips per request.

import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { startLocalUpstash } from '../infra/local/local-upstash.ts';
import { startEdgeWorker } from '../test/support/edge-worker.ts';
import { postJson, tensor } from '../test/support/infer.ts';
import { startCountingProxy } from './lib/counting-proxy.ts';
import { interleave, printTable } from './lib/stats.ts';

const quick = process.argv.includes('--quick');
const schedule = quick ? { warmup: 50, rounds: 3, perRound: 30 } : { warmup: 200, rounds: 10, perRound: 60 };
const countedRequests = quick ? 50 : 200;
const goalMs = 2;

const frame = postJson(
  {
    inputs: [
      tensor('input', 'FP32', [1, 576], new Float32Array(576).fill(0.01)),
      tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
      tensor('sr', 'INT64', [], [16000]),
    ],
  },
  { 'cache-control': 'no-store' },
); // each request runs the model: the response cache is bypassed

async function ok(res: Response): Promise<void> {
  if (res.status !== 200) throw new Error(`edge answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

async function main(): Promise<void> {
  const upstash = await startLocalUpstash();
  const proxy = await startCountingProxy(upstash.url);
  const redisVars = { UPSTASH_REDIS_REST_URL: proxy.url, UPSTASH_REDIS_REST_TOKEN: upstash.token };
  // A limit the benchmark never reaches: every request pays for the check, none is refused.
  const guarded = await startEdgeWorker({ vars: { ...redisVars, RATE_LIMIT_PRO: '100000000' } });
  const open = await startEdgeWorker({ vars: { ...redisVars, UNSAFE_LOCAL_BENCHMARK_NO_AUTH: 'true' } });
  // The same check the Worker makes, from Node: @upstash/ratelimit's sliding window, one EVALSHA.
  const limiter = new Ratelimit({
    redis: new Redis({ url: proxy.url, token: upstash.token, retry: false, enableTelemetry: false }),
    limiter: Ratelimit.slidingWindow(100_000_000, '60000 ms'),
    prefix: 'bench',
  });
  try {
    process.stderr.write('measuring…\n');
    const results = await interleave(
      {
        guarded: async () => ok(await guarded.fetch('/v2/models/silero-vad/infer', frame)),
        open: async () => ok(await open.fetchWithoutCredentials('/v2/models/silero-vad/infer', frame)),
        limiterRoundTrip: () => limiter.limit('bench'),
      },
      schedule,
    );

    // Round trips: sequential requests, then wait for the metering writes that follow each answer.
    const perRequest = async (send: () => Promise<void>) => {
      proxy.reset();
      for (let i = 0; i < countedRequests; i++) await send();
      const onPath = { ...proxy.counts };
      for (let waited = 0; proxy.counts.metering < countedRequests && waited < 5_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      return {
        rateLimit: onPath['rate-limit'] / countedRequests,
        metering: proxy.counts.metering / countedRequests,
        other: proxy.counts.other / countedRequests,
      };
    };
    const guardedTrips = await perRequest(async () => ok(await guarded.fetch('/v2/models/silero-vad/infer', frame)));
    const openTrips = await perRequest(async () => ok(await open.fetchWithoutCredentials('/v2/models/silero-vad/infer', frame)));

    const g = results.guarded!;
    const o = results.open!;
    const l = results.limiterRoundTrip!;
    printTable(
      `silero-vad infer through the local edge, ms (${schedule.rounds}×${schedule.perRound} interleaved samples each)`,
      ['contender', 'p50', 'p99', 'mean'],
      [
        ['auth + rate limit (Upstash, local redis-server)', g.p50, g.p99, g.mean],
        ['both off (UNSAFE_LOCAL_BENCHMARK_NO_AUTH)', o.p50, o.p99, o.mean],
        ['difference', g.p50 - o.p50, g.p99 - o.p99, g.mean - o.mean],
        ['rate limiter round trip alone (Node → REST → redis)', l.p50, l.p99, l.mean],
      ],
    );
    const gatewayOwnMs = g.p50 - o.p50 - l.p50;
    printTable(
      "What the gateway adds on top of the limiter's own round trip (median)",
      ['added p50', 'limiter round trip p50', 'gateway beyond it', `goal ≤ ${goalMs} ms`],
      [[g.p50 - o.p50, l.p50, gatewayOwnMs, gatewayOwnMs <= goalMs ? 'met' : 'NOT met']],
    );
    printTable(
      `Redis round trips per request (${countedRequests} sequential requests, counted at the REST endpoint)`,
      ['worker', 'rate limit (response path)', 'metering (waitUntil, after the answer)', 'other'],
      [
        ['auth + rate limit', guardedTrips.rateLimit, guardedTrips.metering, guardedTrips.other],
        ['both off', openTrips.rateLimit, openTrips.metering, openTrips.other],
      ],
    );
    console.log(
      [
        'API key lookups are cached in the isolate (API_KEY_CACHE_TTL_MS), as in production; the first one reads KV.',
        'Both Workers meter usage (one pipeline per request, in waitUntil); only the guarded one counts against a limit.',
        "The limiter round trip is measured from Node through the same counting proxy and REST endpoint as the Worker's.",
      ].join('\n'),
    );
  } finally {
    await guarded.stop();
    await open.stop();
    await proxy.stop();
    await upstash.stop();
  }
}

await main();
