// `npm run bench:gateway`: what authentication, rate limiting and metering add to an edge request,
// side by side in one run. Local Workers serve the same `silero-vad` infer: one with API-key auth, the
// Upstash rate limiter (a real redis-server behind the local REST endpoint) and metering; the same
// with METERING=off; and one with everything off (UNSAFE_LOCAL_BENCHMARK_NO_AUTH, loopback only).
// Beside them, the limiter's own round trip from Node through the same endpoint, so the gateway's cost
// can be told from the round trip it waits on. A counting proxy in front of the endpoint gives the
// Redis round trips per request. Then an outage run: redis-server killed under load and restarted,
// printing what was served, what was metered, and duplicates.

import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { startLocalUpstash } from '../infra/local/local-upstash.ts';
import { startEdgeWorker } from '../test/support/edge-worker.ts';
import { postJson, tensor } from '../test/support/infer.ts';
import { UsageResponse } from '../protocol/usage.ts';
import { startRestartableUpstash } from '../test/support/restartable-upstash.ts';
import { startCountingProxy } from './lib/counting-proxy.ts';
import { interleave, printTable } from './lib/stats.ts';

const quick = process.argv.includes('--quick');
const schedule = quick ? { warmup: 50, rounds: 3, perRound: 30 } : { warmup: 200, rounds: 10, perRound: 60 };
const countedRequests = quick ? 50 : 200;
const goalMs = 2;
const meteringGoalMs = 0.3;
const outageRequests = quick ? 400 : 2000;
const outageConcurrency = 8;

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
  const guarded = await startEdgeWorker({ skipDevProxy: true, vars: { ...redisVars, RATE_LIMIT_PRO: '100000000' } });
  const unmetered = await startEdgeWorker({ skipDevProxy: true, vars: { ...redisVars, RATE_LIMIT_PRO: '100000000', METERING: 'off' } });
  const open = await startEdgeWorker({
    skipDevProxy: true,
    vars: { ...redisVars, UNSAFE_LOCAL_BENCHMARK_NO_AUTH: 'true', METERING: 'off' },
  });
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
        unmetered: async () => ok(await unmetered.fetch('/v2/models/silero-vad/infer', frame)),
        open: async () => ok(await open.fetchWithoutCredentials('/v2/models/silero-vad/infer', frame)),
        limiterRoundTrip: () => limiter.limit('bench'),
      },
      schedule,
    );

    // Round trips: sequential requests, then wait for the queue consumer's metering writes (batched).
    const perRequest = async (send: () => Promise<void>, metered: boolean) => {
      proxy.reset();
      for (let i = 0; i < countedRequests; i++) await send();
      const onPath = { ...proxy.counts };
      // The consumer takes a batch at most a second after its first event; one more second for the write.
      if (metered) await new Promise((resolve) => setTimeout(resolve, 2_500));
      return {
        rateLimit: onPath['rate-limit'] / countedRequests,
        meteringDuring: onPath.metering / countedRequests,
        metering: proxy.counts.metering / countedRequests,
        other: onPath.other / countedRequests,
      };
    };
    const guardedTrips = await perRequest(async () => ok(await guarded.fetch('/v2/models/silero-vad/infer', frame)), true);
    const openTrips = await perRequest(async () => ok(await open.fetchWithoutCredentials('/v2/models/silero-vad/infer', frame)), false);

    const g = results.guarded!;
    const u = results.unmetered!;
    const o = results.open!;
    const l = results.limiterRoundTrip!;
    printTable(
      `silero-vad infer through the local edge, ms (${schedule.rounds}×${schedule.perRound} interleaved samples each)`,
      ['contender', 'p50', 'p99', 'mean'],
      [
        ['auth + rate limit + metering (Upstash, local redis-server)', g.p50, g.p99, g.mean],
        ['auth + rate limit, METERING=off', u.p50, u.p99, u.mean],
        ['all off (UNSAFE_LOCAL_BENCHMARK_NO_AUTH, METERING=off)', o.p50, o.p99, o.mean],
        ['difference (first - last)', g.p50 - o.p50, g.p99 - o.p99, g.mean - o.mean],
        ['rate limiter round trip alone (Node → REST → redis)', l.p50, l.p99, l.mean],
      ],
    );
    const gatewayOwnMs = g.p50 - o.p50 - l.p50;
    printTable(
      "What the gateway adds on top of the limiter's own round trip (median)",
      ['added p50', 'limiter round trip p50', 'gateway beyond it', `goal ≤ ${goalMs} ms`],
      [[g.p50 - o.p50, l.p50, gatewayOwnMs, gatewayOwnMs <= goalMs ? 'met' : 'NOT met']],
    );
    const meteringMs = g.p50 - u.p50;
    printTable(
      'What metering adds at the edge (median, metering on vs METERING=off, same gateway otherwise)',
      ['metered p50', 'unmetered p50', 'metering p50', `goal ≤ ${meteringGoalMs} ms`, 'metered p99 - unmetered p99'],
      [[g.p50, u.p50, meteringMs, meteringMs <= meteringGoalMs ? 'met' : 'NOT met', g.p99 - u.p99]],
    );
    printTable(
      `Redis round trips per request (${countedRequests} sequential requests, counted at the REST endpoint)`,
      ['worker', 'rate limit (response path)', 'metering while the requests ran (consumer)', 'metering (queue consumer, batched)', 'other'],
      [
        ['auth + rate limit + metering', guardedTrips.rateLimit, guardedTrips.meteringDuring, guardedTrips.metering, guardedTrips.other],
        ['all off', openTrips.rateLimit, openTrips.meteringDuring, openTrips.metering, openTrips.other],
      ],
    );
    console.log(
      [
        'API key lookups are cached in the isolate (API_KEY_CACHE_TTL_MS), as in production; the first one reads KV.',
        'The metered Worker sends each event to the metering queue in waitUntil, after the answer; the queue consumer writes batches to Redis.',
        "The limiter round trip is measured from Node through the same counting proxy and REST endpoint as the Worker's.",
      ].join('\n'),
    );
  } finally {
    await guarded.stop();
    await unmetered.stop();
    await open.stop();
    await proxy.stop();
    await upstash.stop();
  }
  await outageRun();
}

/**
 * ≥2000 requests at `outageConcurrency`; redis-server (appendfsync always) is SIGKILLed after a
 * quarter of them and restarted after three quarters. Served are the 200s; metered is what /v1/usage
 * reads from Redis once the queue has caught up; duplicates are metered beyond served.
 */
async function outageRun(): Promise<void> {
  const redis = await startRestartableUpstash();
  const edge = await startEdgeWorker({
    vars: { UPSTASH_REDIS_REST_URL: redis.url, UPSTASH_REDIS_REST_TOKEN: redis.token, RATE_LIMIT_PRO: '100000000' },
  });
  try {
    process.stderr.write(`outage run: ${outageRequests} requests…\n`);
    let next = 0;
    let served = 0;
    let refused = 0;
    let unitsServed = 0;
    let killed: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    const startedMs = performance.now();
    let downForMs = 0;
    let downSinceMs = 0;
    const client = async () => {
      while (next < outageRequests) {
        const index = next++;
        if (index === Math.floor(outageRequests / 4)) {
          downSinceMs = performance.now();
          killed = redis.kill();
        }
        if (index === Math.floor((outageRequests * 3) / 4))
          restarted = (async () => {
            await killed;
            await redis.restart();
            downForMs = performance.now() - downSinceMs;
          })();
        const res = await edge.fetch('/v2/models/silero-vad/infer', frame);
        await res.arrayBuffer();
        if (res.status === 200) {
          served++;
          unitsServed += Number(res.headers.get('x-edgeinfer-units'));
        } else refused++;
      }
    };
    await Promise.all(Array.from({ length: outageConcurrency }, client));
    await restarted;
    const loadMs = performance.now() - startedMs;
    const today = new Date().toISOString().slice(0, 10);
    let usage: UsageResponse | undefined;
    const caughtUpStartedMs = performance.now();
    // The queue retries with backoff (1, 2, 4 … s): wait until it has caught up, or two minutes.
    for (let waited = 0; waited < 120_000; waited += 500) {
      const res = await edge.fetch(`/v1/usage?from=${today}&to=${today}`);
      if (res.status === 200) {
        usage = UsageResponse.parse(await res.json());
        if (usage.total.requests >= served) break;
      } else await res.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const caughtUpMs = performance.now() - caughtUpStartedMs;
    // Once more after a pause, so a late duplicate would show.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    usage = UsageResponse.parse(await (await edge.fetch(`/v1/usage?from=${today}&to=${today}`)).json());
    const metered = usage.total.requests;
    const count = (event: string, field: string) =>
      edge.logs
        .filter((line) => line.includes(`"event":"${event}"`))
        .reduce((sum, line) => sum + Number(new RegExp(`"${field}":(\\d+)`).exec(line)?.[1] ?? 0), 0);
    printTable(
      `Redis outage run: ${outageRequests} silero-vad requests, ${outageConcurrency} at a time; redis-server SIGKILLed for ${(downForMs / 1000).toFixed(1)} s of ${(loadMs / 1000).toFixed(1)} s, then restarted`,
      ['served (200)', 'refused', 'metered', 'lost (served - metered)', 'duplicates (metered - served)', 'units served', 'units metered'],
      [
        [served, refused, metered, Math.max(0, served - metered), Math.max(0, metered - served), unitsServed, usage.total.units].map(
          String,
        ),
      ],
    );
    printTable(
      'How the metering queue carried it',
      ['events in batches the store refused (retried)', 'events already counted, skipped on retry', 'caught up, s after the load'],
      [
        [
          String(count('metering-store-unavailable', 'events')),
          String(count('metering-duplicates-skipped', 'skipped')),
          (caughtUpMs / 1000).toFixed(1),
        ],
      ],
    );
  } finally {
    await edge.stop();
    await redis.stop();
  }
}

await main();
