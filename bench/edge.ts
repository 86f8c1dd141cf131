// `npm run bench:edge`: the edge Worker measured against native onnxruntime, side by side in one run.
//
// Prints (1) the Worker bundle's size against Workers' script limit, (2) per model version the edge
// carries, one run inside workerd (onnxruntime-web WASM, timed from outside, see
// lib/edge-run-worker.ts) beside onnxruntime-node (native, one thread) on the same file and input,
// with their ratio, and beside the same WASM in Node with and without explicit bounds checks,
// (3) the same infer end to end through the local Worker's HTTP API, (4) cold start: a fresh
// isolate's first infer, and (5) the memory a session adds to workerd.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { repoRoot, startEdgeWorker, type RunningWorker } from '../test/support/edge-worker.ts';
import { postJson, sileroFrameInput, tensor, textLinePattern, type JsonTensor } from '../test/support/infer.ts';
import { readPcm16Wav } from '../test/support/wav.ts';
import { edgeCarriedVersions, parseManifest } from '../models/manifest.ts';
import { measureBundle } from '../tools/models/check/bundle-size.ts';
import { workersLimits } from '../tools/models/check/limits.ts';
import { startBoundsCheckedWeb } from './lib/bounds-checked-web.ts';
import { ortFeeds } from './lib/ort-feeds.ts';
import { interleave, printTable, summarise, timeMs } from './lib/stats.ts';

const quick = process.argv.includes('--quick');
const schedule = quick ? { warmup: 100, rounds: 3, perRound: 20 } : { warmup: 300, rounds: 10, perRound: 60 };
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

interface Case {
  model: string;
  /** One version the edge carries: its serving choice, or the npm reference (float32). */
  version: string;
  /** The version's weights, relative to the model folder: native and WASM in Node run the same file. */
  file: string;
  inputs: JsonTensor[];
}

const label = (c: Case) => `${c.model}@${c.version}`;

/** Every version the edge carries of the two edge models, each on the same real input. */
function cases(): Case[] {
  const { samples } = readPcm16Wav(join(repoRoot, 'test/fixtures/speech-16k.wav'));
  const speechFrame = sileroFrameInput(samples, 40); // 1.28 s in: inside the spoken sentence
  const inputs: Record<string, JsonTensor[]> = {
    'silero-vad': [
      tensor('input', 'FP32', [1, speechFrame.length], speechFrame),
      tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
      tensor('sr', 'INT64', [], [16000]),
    ],
    'paddleocr-cls': [tensor('x', 'FP32', [1, 3, 48, 192], textLinePattern())],
  };
  return Object.entries(inputs).flatMap(([model, modelInputs]) => {
    const manifest = parseManifest(JSON.parse(readFileSync(join(repoRoot, 'models', model, 'manifest.json'), 'utf8')), model);
    return edgeCarriedVersions(manifest).map((version) => ({ model, version: version.version, file: version.file, inputs: modelInputs }));
  });
}

async function bundleSize(): Promise<void> {
  const { rawBytes, gzipBytes, modules } = await measureBundle(repoRoot);
  printTable(
    'Worker bundle (wrangler deploy --dry-run)',
    ['module', 'raw', 'gzip'],
    [
      ...modules.map((m) => [m.file, mib(m.rawBytes), mib(m.gzipBytes)]),
      [
        'total',
        `${mib(rawBytes)} (${((rawBytes / workersLimits.scriptRawBytes) * 100).toFixed(1)}% of ${mib(workersLimits.scriptRawBytes)})`,
        mib(gzipBytes),
      ],
    ],
  );
}

/** Runs one infer through the Worker's API, reading the whole answer. */
async function inferOverHttp(edge: RunningWorker, c: Case): Promise<void> {
  const res = await edge.fetch(
    `/v2/models/${c.model}/versions/${c.version}/infer`,
    postJson({ inputs: c.inputs }, { 'cache-control': 'no-store' }),
  );
  if (res.status !== 200) throw new Error(`edge answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/**
 * Session runs inside workerd, timed from outside (bench/lib/edge-run-worker.ts): one request runs the
 * infer once, the next `repeat + 1` times; their difference over `repeat` is one run, with the request
 * path, the JSON decoding and the clock's granularity cancelled out.
 */
function inIsolateRuns(harness: RunningWorker, c: Case) {
  const body = JSON.stringify({ inputs: c.inputs });
  const runs = async (repeat: number) => {
    const query = new URLSearchParams({ model: c.model, version: c.version, repeat: String(repeat) });
    const res = await harness.fetch(`/?${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status !== 204) throw new Error(`edge-run harness answered ${res.status}: ${await res.text()}`);
  };
  const perRunMs: number[] = [];
  let repeat = 10;
  return {
    perRunMs,
    /** Sizes `repeat` so that one sample spends about 25 ms in runs: long next to the request path's jitter. */
    async calibrate() {
      const estimate = ((await timeMs(() => runs(11))) - (await timeMs(() => runs(1)))) / 10;
      repeat = Math.min(400, Math.max(5, Math.round(25 / Math.max(estimate, 0.01))));
    },
    async sample() {
      const once = await timeMs(() => runs(1));
      const many = await timeMs(() => runs(repeat + 1));
      perRunMs.push((many - once) / repeat);
    },
  };
}

async function coldStart(c: Case): Promise<{ firstMs: number; secondMs: number }> {
  const edge = await startEdgeWorker();
  try {
    await (await edge.fetch('/v2/health/live')).arrayBuffer(); // the isolate is up; the model is not
    const firstMs = await timeMs(() => inferOverHttp(edge, c));
    const secondMs = await timeMs(() => inferOverHttp(edge, c));
    return { firstMs, secondMs };
  } finally {
    await edge.stop();
  }
}

/** Resident memory of the workerd processes this benchmark started (Linux /proc), in bytes. */
function workerdRssBytes(): number {
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const descendants: number[] = [];
  const queue = children(process.pid);
  while (queue.length) {
    const pid = queue.shift()!;
    descendants.push(pid);
    queue.push(...children(pid));
  }
  let total = 0;
  for (const pid of descendants) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (!/^Name:\s*workerd/m.test(status)) continue;
      total += Number(/^VmRSS:\s*(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // the process ended between listing and reading
    }
  }
  return total;
}

/** A fresh Worker: the resident memory that one model's session adds to workerd. */
async function sessionMemoryBytes(c: Case): Promise<number> {
  const edge = await startEdgeWorker();
  try {
    // The first session also initialises onnxruntime-web; a session of the other model pays for
    // that first, so what is measured is this model's own share.
    const other = cases().find((o) => o.model !== c.model)!;
    await (await edge.fetch(`/v2/models/${other.model}/ready`)).arrayBuffer();
    const before = workerdRssBytes();
    await (await edge.fetch(`/v2/models/${c.model}/versions/${c.version}/ready`)).arrayBuffer();
    return workerdRssBytes() - before;
  } finally {
    await edge.stop();
  }
}

async function main(): Promise<void> {
  await bundleSize();
  ortWeb.env.wasm.numThreads = 1;
  // Thousands of requests a minute: this measures inference, not the plan's limit (bench:gateway does).
  const edge = await startEdgeWorker({
    vars: { RATE_LIMIT_PRO: '1000000', RATE_LIMIT_FREE: '1000000', RATE_LIMIT_PUBLIC_PER_IP: '1000000' },
  });
  const harness = await startEdgeWorker({ entrypoint: join(repoRoot, 'bench/lib/edge-run-worker.ts') });
  const boundsChecked = startBoundsCheckedWeb();
  const httpRows: (string | number)[][] = [];
  const runRows: (string | number)[][] = [];
  const coldRows: (string | number)[][] = [];
  const costRows: (string | number)[][] = [];
  try {
    for (const c of cases()) {
      process.stderr.write(`measuring ${label(c)}…\n`);
      const path = join(repoRoot, 'models', c.model, c.file);
      const native = await ortNode.InferenceSession.create(path, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
      const web = await ortWeb.InferenceSession.create(readFileSync(path), {
        graphOptimizationLevel: 'all',
        enableCpuMemArena: false,
        enableMemPattern: false,
      });
      const nativeFeeds = ortFeeds(ortNode, c.inputs);
      const webFeeds = ortFeeds(ortWeb, c.inputs);
      const inIsolate = inIsolateRuns(harness, c);
      await inIsolate.calibrate();
      await boundsChecked.load(path, c.inputs);
      const boundsCheckedMs: number[] = [];
      const results = await interleave(
        {
          edge: () => inferOverHttp(edge, c),
          httpFloor: async () => (await edge.fetch('/v2/health/live')).arrayBuffer(),
          edgeRun: () => inIsolate.sample(),
          native: () => native.run(nativeFeeds),
          webInNode: () => web.run(webFeeds),
          webBoundsChecked: async () => boundsCheckedMs.push(await boundsChecked.run()),
        },
        schedule,
      );
      const { edge: e, httpFloor: f, native: n, webInNode: w } = results as Record<string, ReturnType<typeof summarise>>;
      const run = summarise(inIsolate.perRunMs.slice(schedule.warmup));
      const checked = summarise(boundsCheckedMs.slice(schedule.warmup));
      httpRows.push([label(c), e!.p50, e!.p99, f!.p50, n!.p50, (e!.p50 / n!.p50).toFixed(1)]);
      runRows.push([
        label(c),
        run.p50,
        run.p99,
        n!.p50,
        n!.p99,
        (run.p50 / n!.p50).toFixed(2),
        w!.p50,
        (w!.p50 / n!.p50).toFixed(2),
        checked.p50,
        (checked.p50 / n!.p50).toFixed(2),
      ]);
    }
    for (const c of cases()) {
      const cold = await coldStart(c);
      coldRows.push([label(c), cold.firstMs, cold.secondMs, cold.firstMs < 500 ? 'yes' : 'NO']);
      costRows.push([label(c), mib(statSync(join(repoRoot, 'models', c.model, c.file)).size), mib(await sessionMemoryBytes(c))]);
    }
  } finally {
    boundsChecked.stop();
    await Promise.all([edge.stop(), harness.stop()]);
  }
  printTable(
    `One run of the model inside the edge's isolate against native, ms (${schedule.rounds}×${schedule.perRound} interleaved samples each)`,
    [
      'model',
      'edge run p50',
      'edge run p99',
      'native p50',
      'native p99',
      'edge run/native',
      'ort-web in Node p50',
      'ort-web/native',
      'ort-web, bounds-checked p50',
      'bounds-checked/native',
    ],
    runRows,
  );
  console.log(
    [
      "edge run: InferenceSession.run in workerd (onnxruntime-web WASM, 1 thread, the edge's own runtime and session options),",
      '  timed from outside as the difference between requests that run it 1 and N+1 times, over N (bench/lib/edge-run-worker.ts).',
      'native: InferenceSession.run in onnxruntime-node, CPU, 1 thread, in-process, on the same file and input.',
      'ort-web in Node: the same WASM build as the Worker, in-process.',
      'ort-web, bounds-checked: the same in a Node whose V8 checks every WebAssembly memory access explicitly',
      "  (--wasm-enforce-bounds-checks), as workerd's does: workerd never installs V8's WebAssembly trap handler.",
    ].join('\n'),
  );
  printTable(
    'The same infer end to end: POST /v2/models/{model}/versions/{version}/infer through the local Worker, ms',
    ['model', 'edge p50', 'edge p99', 'local HTTP floor p50', 'native p50', 'edge/native'],
    httpRows,
  );
  console.log(
    [
      "edge: JSON in and out through wrangler's local server (its proxy Worker, then workerd), auth and rate limit included.",
      'local HTTP floor: GET /v2/health/live on the same server: what the local request path costs before any model runs.',
      '  It is milliseconds where silero runs in a fraction of one, so this ratio measures the local server, not the runtime.',
    ].join('\n'),
  );
  printTable(
    'Cold start: a fresh isolate, first infer after it is up (ORT WASM instantiate + sha256 + session + run), ms',
    ['model', 'first infer', 'second infer', 'under 500 ms'],
    coldRows,
  );
  console.log(
    'The first infer is single-threaded compute with no I/O but loopback: its wall time bounds the CPU time Workers would bill for it.',
  );
  printTable('Edge session memory against the 128 MB isolate', ['model', 'weights', 'workerd RSS added by its session'], costRows);
}

await main();
