// `npm run bench:edge`: the edge Worker measured against native onnxruntime, side by side in one run.
//
// Prints (1) the Worker bundle's size against Workers' script limit, (2) per model, the latency of
// `infer` through the local Worker (workerd, onnxruntime-web WASM) beside onnxruntime-node (native,
// one thread) on the same input, with their ratio, (3) cold start: a fresh isolate's first infer,
// and (4) what a session costs in the edge runtime: WASM memory after creation, first-inference CPU.

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

type OrtModule = typeof ortNode | typeof ortWeb;
function feeds(ort: OrtModule, inputs: JsonTensor[]) {
  return Object.fromEntries(
    inputs.map((t) => [
      t.name,
      t.datatype === 'INT64'
        ? new ort.Tensor('int64', BigInt64Array.from(t.data as number[], BigInt), t.shape)
        : new ort.Tensor('float32', Float32Array.from(t.data as number[]), t.shape),
    ]),
  );
}

async function bundleSize(): Promise<void> {
  const { rawBytes, gzipBytes, modules } = await measureBundle(repoRoot);
  printTable('Worker bundle (wrangler deploy --dry-run)', ['module', 'raw', 'gzip'], [
    ...modules.map((m) => [m.file, mib(m.rawBytes), mib(m.gzipBytes)]),
    ['total', `${mib(rawBytes)} (${((rawBytes / workersLimits.scriptRawBytes) * 100).toFixed(1)}% of ${mib(workersLimits.scriptRawBytes)})`, mib(gzipBytes)],
  ]);
}

/** Runs one infer through the Worker; returns the run time the Worker reported in Server-Timing. */
async function inferOverHttp(edge: RunningWorker, c: Case): Promise<number> {
  const res = await edge.fetch(`/v2/models/${c.model}/versions/${c.version}/infer`, postJson({ inputs: c.inputs }));
  if (res.status !== 200) throw new Error(`edge answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return Number(/infer;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? Number.NaN);
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

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
  const edge = await startEdgeWorker({ vars: { RATE_LIMIT_PRO: '1000000', RATE_LIMIT_FREE: '1000000' } });
  const latencyRows: (string | number)[][] = [];
  const coldRows: (string | number)[][] = [];
  const costRows: (string | number)[][] = [];
  try {
    for (const c of cases()) {
      process.stderr.write(`measuring ${label(c)}…\n`);
      const path = join(repoRoot, 'models', c.model, c.file);
      const native = await ortNode.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
      const web = await ortWeb.InferenceSession.create(readFileSync(path), { graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false });
      const nativeFeeds = feeds(ortNode, c.inputs);
      const webFeeds = feeds(ortWeb, c.inputs);
      const workerRunMs: number[] = [];
      const results = await interleave(
        {
          edge: async () => workerRunMs.push(await inferOverHttp(edge, c)),
          httpFloor: async () => (await edge.fetch('/v2/health/live')).arrayBuffer(),
          native: () => native.run(nativeFeeds),
          webInNode: () => web.run(webFeeds),
        },
        schedule,
      );
      const { edge: e, httpFloor: f, native: n, webInNode: w } = results as Record<string, ReturnType<typeof summarise>>;
      const measuredRunMs = workerRunMs.slice(schedule.warmup);
      latencyRows.push([
        label(c), e!.p50, e!.p99, f!.p50, n!.p50, n!.p99, (e!.p50 / n!.p50).toFixed(2),
        mean(measuredRunMs), n!.mean, (mean(measuredRunMs) / n!.mean).toFixed(2),
        w!.p50, (w!.p50 / n!.p50).toFixed(2),
      ]);
    }
    for (const c of cases()) {
      const cold = await coldStart(c);
      coldRows.push([label(c), cold.firstMs, cold.secondMs, cold.firstMs < 500 ? 'yes' : 'NO']);
      costRows.push([label(c), mib(statSync(join(repoRoot, 'models', c.model, c.file)).size), mib(await sessionMemoryBytes(c))]);
    }
  } finally {
    await edge.stop();
  }
  printTable(`Latency of one infer, ms (${schedule.rounds}×${schedule.perRound} interleaved samples each)`, [
    'model', 'edge p50', 'edge p99', 'local HTTP floor p50', 'native p50', 'native p99', 'edge/native',
    'edge run mean', 'native run mean', 'edge run/native', 'ort-web in Node p50', 'ort-web/native',
  ], latencyRows);
  console.log([
    'edge: POST /v2/models/{model}/infer through the local Worker (wrangler dev\'s workerd, onnxruntime-web WASM, 1 thread), JSON in and out.',
    'local HTTP floor: GET /v2/health/live on the same local server, the cost of the local dev server\'s request path alone.',
    'native: InferenceSession.run in onnxruntime-node, CPU, 1 thread, in-process.',
    'edge run: session.run inside the Worker, from its Server-Timing header (workerd\'s clock ticks in whole ms: the mean over all samples is exact, single values are not).',
    'ort-web in Node: the same WASM build as the Worker, in-process.',
  ].join('\n'));
  printTable('Cold start: a fresh isolate, first infer after it is up (ORT WASM instantiate + sha256 + session + run), ms', ['model', 'first infer', 'second infer', 'under 500 ms'], coldRows);
  console.log('The first infer is single-threaded compute with no I/O but loopback: its wall time bounds the CPU time Workers would bill for it.');
  printTable('Edge session memory against the 128 MB isolate', ['model', 'weights', 'workerd RSS added by its session'], costRows);
}

await main();
