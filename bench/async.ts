// `npm run bench:async`: what async acceptance and the response cache cost at the edge, side by side
// in one run against the gateway's own floor, and whether a cold backend finishes every accepted job.
//
// One local Worker (workerd, as `npm start`: in-memory rate limits, local Queue, Durable Objects, R2,
// Cache API) and the real backend (CPU). Interleaved samples of:
//   - floor: the same POST to the same route with a key that may not run the model: authenticated,
//     counted against the plan, refused 403 by the gate before anything reads the body;
//   - 202: the request with `Prefer: respond-async` (body read and checked, stored in R2 and the job's
//     Durable Object, then answered);
//   - hit: the request answered from the cache;
//   - miss: the request with `Cache-Control: no-store`, run on the backend as a miss is.
// for a paddleocr-rec line (JSON and binary) and a Silero VAD frame, whose small answer shows the
// cache's own fixed cost apart from moving megabytes through local workerd.
// Then the cold start: jobs accepted while no backend listens, the backend started after them.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../infra/local/free-port.ts';
import { binaryMediaType, encodeBinaryInferRequest, inferenceHeaderContentLength } from '../protocol/binary.ts';
import { Job, JobAccepted } from '../protocol/jobs.ts';
import { seedApiKey } from '../test/support/api-keys.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../test/support/backend.ts';
import { startEdgeWorker } from '../test/support/edge-worker.ts';
import { postJson, tensor, textLinePattern } from '../test/support/infer.ts';
import { interleave, printTable } from './lib/stats.ts';

const quick = process.argv.includes('--quick');
const schedule = quick ? { warmup: 10, rounds: 3, perRound: 10 } : { warmup: 20, rounds: 6, perRound: 20 };
const coldJobs = quick ? 6 : 20;
const goals = { acceptOverFloorMs: 5, hitOverFloorMs: 2, hitSpeedup: 10 };

const recLine = (width: number, shift = 0) =>
  postJson({
    inputs: [
      tensor(
        'x',
        'FP32',
        [1, 3, 48, width],
        textLinePattern(width).map((v, i) => (i % 97 === shift ? -v : v)),
      ),
    ],
  });

async function expectStatus(response: Response, status: number): Promise<void> {
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

async function expectHit(response: Response): Promise<void> {
  if (response.headers.get('cache-status') !== 'edgeinfer; hit')
    throw new Error(`expected a cache hit: ${response.headers.get('cache-status')}`);
  await expectStatus(response, 200);
}

async function main(): Promise<void> {
  // The local Queue, Durable Objects and R2 keep their state in SQLite files under this directory. On
  // this machine's disk each write's fsync took tens of milliseconds, which a 202 (a Durable Object
  // write) then measured; in memory (/dev/shm, where there is one) the figure is the edge's own work.
  const stateDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'edgeinfer-bench-async-'));
  const backendPort = await freeLoopbackPort();
  let backend: StartedBackend | undefined = await startTestBackend({ PORT: String(backendPort) });
  const edge = await startEdgeWorker({
    skipDevProxy: true,
    persistTo: stateDir,
    vars: {
      BACKEND_URL: `http://127.0.0.1:${backendPort}`,
      EDGE_SIGNING_SECRET: testSigningSecret,
      RATE_LIMIT_PRO: '100000000',
      BACKEND_COOL_DOWN_MS: '500',
      JOB_RETRY_BASE_SECONDS: '1',
      JOB_RETRY_MAX_SECONDS: '2',
    },
  });
  try {
    // Keys that may not run the model each floor request names: refused by the gate, 403.
    const outsider = await seedApiKey(edge.apiKeys, { models: ['silero-vad'] });
    const path = '/v2/models/paddleocr-rec/infer';
    const request = recLine(320);
    // Identity encoding for every contender: workerd would gzip each multi-megabyte JSON answer, a cost
    // that Cloudflare's front line pays in production whatever the edge did, and that hides the edge's own.
    const withHeaders = (extra: Record<string, string>, base: RequestInit = request) => ({
      ...base,
      headers: { ...(base.headers as Record<string, string>), 'accept-encoding': 'identity', ...extra },
    });
    const floorRequest = withHeaders({ authorization: `Bearer ${outsider.apiKey}` });
    const asyncRequest = withHeaders({ prefer: 'respond-async' });
    const missRequest = withHeaders({ 'cache-control': 'no-store' });
    const hitRequest = withHeaders({});
    // The same line with the binary tensor data extension both ways: what a client that cares about
    // bytes sends (184 KiB in, 0.5 MiB out, where JSON is 855 KiB in and megabytes out).
    const binary = encodeBinaryInferRequest({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 320], data: textLinePattern(320) }],
      binaryOutputs: true,
    });
    const binaryRequest: RequestInit = {
      method: 'POST',
      headers: {
        'content-type': binaryMediaType,
        [inferenceHeaderContentLength]: String(binary.headerLength),
        'accept-encoding': 'identity',
      },
      body: binary.body as Uint8Array<ArrayBuffer>,
    };
    const binaryWith = (extra: Record<string, string>) => ({
      ...binaryRequest,
      headers: { ...(binaryRequest.headers as Record<string, string>), ...extra },
    });
    const binaryFloor = binaryWith({ authorization: `Bearer ${outsider.apiKey}` });
    const binaryMiss = binaryWith({ 'cache-control': 'no-store' });
    await expectStatus(await edge.fetch(path, binaryRequest), 200);
    // A small request beside it: one Silero VAD frame (about 10 KiB of JSON).
    const frame = postJson({
      inputs: [
        tensor('input', 'FP32', [1, 576], new Float32Array(576).fill(0.01)),
        tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
        tensor('sr', 'INT64', [], [16000]),
      ],
    });
    const vadPath = '/v2/models/silero-vad/infer';
    const outsiderForVad = await seedApiKey(edge.apiKeys, { models: ['paddleocr-rec'] });
    const frameFloorRefused = withHeaders({ authorization: `Bearer ${outsiderForVad.apiKey}` }, frame);
    const frameAsync = withHeaders({ prefer: 'respond-async' }, frame);
    const frameHitRequest = withHeaders({}, frame);
    const frameMiss = withHeaders({ 'cache-control': 'no-store' }, frame);
    await expectStatus(await edge.fetch(vadPath, frameHitRequest), 200); // stored
    await expectStatus(await edge.fetch(path, request), 200); // stored: every later plain request is a hit
    const bodyBytes = new TextEncoder().encode(request.body as string).length;

    process.stderr.write('measuring…\n');
    const results = await interleave(
      {
        floor: async () => expectStatus(await edge.fetch(path, floorRequest), 403),
        accepted: async () => expectStatus(await edge.fetch(path, asyncRequest), 202),
        frameFloor: async () => expectStatus(await edge.fetch(vadPath, frameFloorRefused), 403),
        frameAccepted: async () => expectStatus(await edge.fetch(vadPath, frameAsync), 202),
        frameHit: async () => expectHit(await edge.fetch(vadPath, frameHitRequest)),
        frameMiss: async () => expectStatus(await edge.fetch(vadPath, frameMiss), 200),
        hit: async () => expectHit(await edge.fetch(path, hitRequest)),
        miss: async () => expectStatus(await edge.fetch(path, missRequest), 200),
        binaryFloor: async () => expectStatus(await edge.fetch(path, binaryFloor), 403),
        binaryHit: async () => expectHit(await edge.fetch(path, binaryRequest)),
        binaryMiss: async () => expectStatus(await edge.fetch(path, binaryMiss), 200),
        health: async () => expectStatus(await edge.fetchWithoutCredentials('/v2/health/live'), 200),
      },
      schedule,
    );
    const {
      floor,
      accepted,
      hit,
      miss,
      health,
      frameFloor,
      frameAccepted,
      frameHit,
      frameMiss: fMiss,
      binaryFloor: bFloor,
      binaryHit: bHit,
      binaryMiss: bMiss,
    } = results as Record<string, { p50: number; p99: number; mean: number }>;
    printTable(
      `paddleocr-rec infer (1×3×48×320, ${(bodyBytes / 1024).toFixed(0)} KiB of JSON) through the local edge, ms (${schedule.rounds}×${schedule.perRound} interleaved samples each)`,
      ['contender', 'p50', 'p99', 'mean'],
      [
        ['floor: same POST, refused 403 by the gate (auth + rate limit, body unread)', floor!.p50, floor!.p99, floor!.mean],
        ['202 Accepted (Prefer: respond-async)', accepted!.p50, accepted!.p99, accepted!.mean],
        ['cache hit', hit!.p50, hit!.p99, hit!.mean],
        ['miss (Cache-Control: no-store: runs on the backend)', miss!.p50, miss!.p99, miss!.mean],
        ['GET /v2/health/live (no gate, no body)', health!.p50, health!.p99, health!.mean],
      ],
    );
    printTable(
      'silero-vad infer (one frame, about 10 KiB of JSON), ms',
      ['contender', 'p50', 'p99', 'mean'],
      [
        ['floor: same POST, refused 403 by the gate', frameFloor!.p50, frameFloor!.p99, frameFloor!.mean],
        ['202 Accepted (Prefer: respond-async)', frameAccepted!.p50, frameAccepted!.p99, frameAccepted!.mean],
        ['cache hit', frameHit!.p50, frameHit!.p99, frameHit!.mean],
        ['miss (Cache-Control: no-store: runs at the edge, in WASM)', fMiss!.p50, fMiss!.p99, fMiss!.mean],
      ],
    );
    printTable(
      'paddleocr-rec infer, the same line with binary tensors in and out, ms',
      ['contender', 'p50', 'p99', 'mean'],
      [
        ['floor: same POST, refused 403 by the gate', bFloor!.p50, bFloor!.p99, bFloor!.mean],
        ['cache hit', bHit!.p50, bHit!.p99, bHit!.mean],
        ['miss (Cache-Control: no-store: runs on the backend)', bMiss!.p50, bMiss!.p99, bMiss!.mean],
      ],
    );
    const frameAcceptOver = frameAccepted!.p50 - frameFloor!.p50;
    const frameHitOver = frameHit!.p50 - frameFloor!.p50;
    const binaryHitOver = bHit!.p50 - bFloor!.p50;
    const binarySpeedup = bMiss!.p50 / bHit!.p50;
    const acceptOver = accepted!.p50 - floor!.p50;
    const hitOver = hit!.p50 - floor!.p50;
    const speedup = miss!.p50 / hit!.p50;
    printTable(
      'Goals (medians)',
      ['measure', 'value', 'goal', 'verdict'],
      [
        [
          '202 over the floor, silero-vad frame, ms',
          frameAcceptOver,
          `≤ ${goals.acceptOverFloorMs}`,
          frameAcceptOver <= goals.acceptOverFloorMs ? 'met' : 'NOT met',
        ],
        [
          '202 over the floor, paddleocr-rec line, ms',
          acceptOver,
          `≤ ${goals.acceptOverFloorMs}`,
          acceptOver <= goals.acceptOverFloorMs ? 'met' : 'NOT met',
        ],
        [
          'cache hit over the floor, silero-vad frame (small answer: the cache alone), ms',
          frameHitOver,
          `≤ ${goals.hitOverFloorMs}`,
          frameHitOver <= goals.hitOverFloorMs ? 'met' : 'NOT met',
        ],
        ['cache hit over the floor, JSON, ms', hitOver, `≤ ${goals.hitOverFloorMs}`, hitOver <= goals.hitOverFloorMs ? 'met' : 'NOT met'],
        [
          'cache hit over the floor, binary, ms',
          binaryHitOver,
          `≤ ${goals.hitOverFloorMs}`,
          binaryHitOver <= goals.hitOverFloorMs ? 'met' : 'NOT met',
        ],
        ['miss ÷ hit, binary', binarySpeedup, `≥ ${goals.hitSpeedup}×`, binarySpeedup >= goals.hitSpeedup ? 'met' : 'NOT met'],
        ['miss ÷ hit, JSON', speedup, `≥ ${goals.hitSpeedup}×`, speedup >= goals.hitSpeedup ? 'met' : 'NOT met'],
      ],
    );

    // Cold backend: every job accepted while nothing listens, the backend started after the last 202.
    await backend.stop();
    backend = undefined;
    const ids: string[] = [];
    for (let i = 0; i < coldJobs; i++) {
      const response = await edge.fetch(path, {
        ...recLine(160 + 32 * (i % 6), i),
        headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      });
      if (response.status !== 202) throw new Error(`job ${i} was not accepted: ${response.status}`);
      ids.push(JobAccepted.parse(await response.json()).id);
    }
    const startedMs = performance.now();
    backend = await startTestBackend({ PORT: String(backendPort) });
    const readyMs = performance.now() - startedMs;
    const statuses = new Map<string, string>();
    for (let polls = 0; polls < 3000 && statuses.size < ids.length; polls++) {
      for (const id of ids.filter((id) => !statuses.has(id))) {
        const job = Job.parse(await (await edge.fetch(`/v1/jobs/${id}`)).json());
        if (job.status === 'succeeded' || job.status === 'failed') statuses.set(id, job.error ? `failed: ${job.error}` : job.status);
      }
      if (statuses.size < ids.length) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const succeeded = [...statuses.values()].filter((status) => status === 'succeeded').length;
    printTable(
      'Cold backend: jobs accepted while no backend listened, then the backend started',
      ['accepted', 'succeeded', 'failed', 'unfinished', 'backend start → ready, s', 'backend start → last job finished, s', 'verdict'],
      [
        [
          ids.length,
          succeeded,
          statuses.size - succeeded,
          ids.length - statuses.size,
          (readyMs / 1000).toFixed(1),
          ((performance.now() - startedMs) / 1000).toFixed(1),
          succeeded === ids.length ? 'every accepted job finished' : 'NOT every job finished',
        ],
      ],
    );
    for (const [id, status] of statuses) if (status !== 'succeeded') console.log(`${id}: ${status}`);
    console.log(
      [
        'The floor is what the gateway costs for this request before any route work; 202 and hit add their own work to it.',
        'The miss is the backend run a cache miss makes (CPU provider here), the hit the stored answer of the same request.',
      ].join('\n'),
    );
  } finally {
    await edge.stop();
    await backend?.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
