// `npm run bench:backend` (`-- --quick` for a smoke run): the GPU backend measured side by side in one
// run, on paddleocr-rec and paddleocr-det. Prints (1) throughput and p50/p99 latency at 1, 8, 32 and 64
// concurrent clients with dynamic batching on and off, and their ratio beside the most batching could
// give at the rows per run it reached ("bound", from (2)); (2) session.run's cost per row by batch size
// in-process, the most batching can gain on this device; (3) JSON against binary tensor bodies for
// paddleocr-det at 1×3×640×640; (4) the server's overhead against session.run called in-process at the
// same batch size, beside a do-nothing HTTP server moving the same bytes.
//
// The backends run as child processes (`node gpu-backend/main.ts`: batching on, off, and on with at
// most 4 rows per run, the setting for a CPU), so that this process's own client work does not share
// the servers' event loops; they share the machine's cores, as clients and server do on a small box. EXECUTION_PROVIDERS is passed through (default cuda,cpu):
// on a machine with an NVIDIA GPU and the CUDA build of onnxruntime-node, the same run measures CUDA.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  bodyHeaders,
  decodeInferResponseBody,
  type EncodedBody,
  encodeBinaryInferRequest,
  inferenceHeaderContentLength,
} from '../protocol/binary.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import { sessionOptions } from '../gpu-backend/runtime.ts';
import { metricsAuthorization, spawnBackend, type SpawnedBackend } from '../test/support/backend.ts';
import { repoRoot } from '../test/support/edge-worker.ts';
import { tensor } from '../test/support/infer.ts';
import { interleave, printTable, summarise } from './lib/stats.ts';

const providers = process.env.EXECUTION_PROVIDERS ?? 'cuda,cpu';
const quick = process.argv.includes('--quick');
const concurrencies = [1, 8, 32, 64];
/** Requests per measurement: enough for every client to send a few, few enough for a 2-core box. */
const requestsFor = (clients: number) => (quick ? Math.max(8, clients) : Math.max(24, clients * 3));

interface Case {
  model: string;
  file: string;
  input: Tensor;
}

function pattern(shape: number[]): Float32Array {
  const length = shape.reduce((n, s) => n * s, 1);
  return Float32Array.from({ length }, (_, i) => Math.fround(Math.sin(i * 0.013) * 0.8));
}

// A 160-pixel-wide text line for the recogniser; a 320×320 page tile for the detector (640×640 has its
// own table below, where one request at a time keeps its run time modest).
const cases: Case[] = [
  {
    model: 'paddleocr-rec',
    file: 'ch_PP-OCRv4_rec_infer.onnx',
    input: { name: 'x', datatype: 'FP32', shape: [1, 3, 48, 160], data: pattern([1, 3, 48, 160]) },
  },
  {
    model: 'paddleocr-det',
    file: 'ch_PP-OCRv4_det_infer.onnx',
    input: { name: 'x', datatype: 'FP32', shape: [1, 3, 320, 320], data: pattern([1, 3, 320, 320]) },
  },
];

function batchOf(input: Tensor, rows: number): Tensor {
  const data = new Float32Array((input.data as Float32Array).length * rows);
  for (let r = 0; r < rows; r++) data.set(input.data as Float32Array, r * (input.data as Float32Array).length);
  return { ...input, shape: [rows, ...input.shape.slice(1)], data };
}

// The client is node:http with keep-alive connections, not fetch: undici's fetch spends several ms per
// MB of body on its web streams (measured beside it in the overhead table), which is the client's cost,
// not the server's, and would hide the server's own in every figure here.
const agent = new http.Agent({ keepAlive: true });

function post(
  url: URL,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const joined = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: new Uint8Array(joined.buffer, joined.byteOffset, joined.length) });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed for idleness just as it was reused: send again on a
      // fresh one, as Node's documentation advises (`request.reusedSocket`).
      if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) post(url, headers, body).then(resolve, reject);
      else reject(err);
    });
    req.end(body);
  });
}

/** Sends one request; returns the server's own time in its inference service (its Server-Timing `infer`). */
async function infer(backend: SpawnedBackend, model: string, body: EncodedBody): Promise<number> {
  const res = await post(new URL(`/v2/models/${model}/infer`, backend.url), bodyHeaders(body), body.body);
  if (res.status !== 200) throw new Error(`${model}: backend answered ${res.status}: ${new TextDecoder().decode(res.body)}`);
  // The client's decoding is part of what a caller pays, JSON or binary.
  decodeInferResponseBody(res.body, res.headers[inferenceHeaderContentLength] as string | undefined);
  return Number(/infer;dur=([\d.]+)/.exec(String(res.headers['server-timing']))?.[1] ?? Number.NaN);
}

/** The same request through fetch (undici), for the overhead table's client column. */
async function inferWithFetch(backend: SpawnedBackend, model: string, body: EncodedBody): Promise<void> {
  const res = await fetch(new URL(`/v2/models/${model}/infer`, backend.url), {
    method: 'POST',
    headers: bodyHeaders(body),
    body: body.body as Uint8Array<ArrayBuffer>,
  });
  if (res.status !== 200) throw new Error(`${model}: backend answered ${res.status}: ${await res.text()}`);
  decodeInferResponseBody(new Uint8Array(await res.arrayBuffer()), res.headers.get(inferenceHeaderContentLength));
}

/** `clients` callers each sending requests back to back until `total` have been answered. */
async function closedLoop(
  total: number,
  clients: number,
  send: () => Promise<void>,
): Promise<{ throughput: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (started < total) {
        started++;
        const t = performance.now();
        await send();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const { p50, p99 } = summarise(latencies);
  return { throughput: total / seconds, p50, p99 };
}

async function batchedBatchSizes(backend: SpawnedBackend, model: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(new URL('/metrics', backend.url), { headers: metricsAuthorization })).text();
  const read = (suffix: string) =>
    Number(new RegExp(`edgeinfer_backend_batch_size_${suffix}\\{model="${model}"\\} (\\S+)`).exec(text)?.[1] ?? 0);
  return { sum: read('sum'), count: read('count') };
}

interface Servers {
  on: SpawnedBackend;
  off: SpawnedBackend;
  /** Batching on with MAX_BATCH_SIZE=`cappedBatch`: the setting for a CPU, where big batches cost more per row. */
  capped: SpawnedBackend;
}
const cappedBatch = 4;

async function concurrencySweep({ on, off, capped }: Servers, perRow: PerRowMs): Promise<(string | number)[][]> {
  const rows: (string | number)[][] = [];
  const cappedSizes = new Map<string, { sum: number; count: number }>();
  for (const c of cases) {
    const body = encodeBinaryInferRequest({ inputs: [c.input], binaryOutputs: true });
    cappedSizes.set(c.model, await batchedBatchSizes(capped, c.model));
    for (const backend of [on, off, capped]) for (let i = 0; i < 3; i++) await infer(backend, c.model, body); // warm all
    for (const [index, clients] of concurrencies.entries()) {
      process.stderr.write(`  ${c.model}: ${clients} clients…\n`);
      const total = requestsFor(clients);
      const before = await batchedBatchSizes(on, c.model);
      // Rotating which goes first spreads any drift of the machine over all three.
      const order = [on, off, capped].map((_, i, all) => all[(i + index) % all.length]!);
      const results = new Map<SpawnedBackend, Awaited<ReturnType<typeof closedLoop>>>();
      for (const backend of order)
        results.set(backend, await closedLoop(total, clients, async () => void (await infer(backend, c.model, body))));
      const [batched, unbatched, cappedRun] = [results.get(on)!, results.get(off)!, results.get(capped)!];
      const after = await batchedBatchSizes(on, c.model);
      const meanBatch = (after.sum - before.sum) / Math.max(1, after.count - before.count);
      const [cappedBefore, cappedAfter] = [cappedSizes.get(c.model) ?? { sum: 0, count: 0 }, await batchedBatchSizes(capped, c.model)];
      cappedSizes.set(c.model, cappedAfter);
      const cappedMeanBatch = (cappedAfter.sum - cappedBefore.sum) / Math.max(1, cappedAfter.count - cappedBefore.count);
      rows.push([
        c.model,
        `1×${c.input.shape.slice(1).join('×')}`,
        String(clients),
        String(total),
        batched.throughput.toFixed(1),
        unbatched.throughput.toFixed(1),
        (batched.throughput / unbatched.throughput).toFixed(2),
        inProcessBound(perRow, c.model, meanBatch).toFixed(2),
        batched.p50.toFixed(0),
        batched.p99.toFixed(0),
        unbatched.p50.toFixed(0),
        unbatched.p99.toFixed(0),
        (batched.p99 / unbatched.p99).toFixed(2),
        meanBatch.toFixed(1),
        cappedRun.throughput.toFixed(1),
        (cappedRun.throughput / unbatched.throughput).toFixed(2),
        inProcessBound(perRow, c.model, cappedMeanBatch).toFixed(2),
        cappedRun.p99.toFixed(0),
        (cappedRun.p99 / unbatched.p99).toFixed(2),
      ]);
    }
  }
  return rows;
}

async function jsonAgainstBinary(off: SpawnedBackend): Promise<(string | number)[][]> {
  const input: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 3, 640, 640], data: pattern([1, 3, 640, 640]) };
  const json: EncodedBody = {
    body: new TextEncoder().encode(JSON.stringify({ inputs: [tensor('x', 'FP32', input.shape, input.data as Float32Array)] })),
    headerLength: undefined,
  };
  const binaryIn = encodeBinaryInferRequest({ inputs: [input] });
  const binary = encodeBinaryInferRequest({ inputs: [input], binaryOutputs: true });
  const results = await interleave(
    {
      json: () => infer(off, 'paddleocr-det', json),
      binaryInJsonOut: () => infer(off, 'paddleocr-det', binaryIn),
      binary: () => infer(off, 'paddleocr-det', binary),
    },
    quick ? { warmup: 1, rounds: 2, perRound: 2 } : { warmup: 1, rounds: 3, perRound: 3 },
  );
  const base = results.json!;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  return [
    ['JSON in, JSON out', mib(json.body.length), base.p50.toFixed(1), base.p99.toFixed(1), '1.00'],
    [
      'binary in, JSON out',
      mib(binaryIn.body.length),
      results.binaryInJsonOut!.p50.toFixed(1),
      results.binaryInJsonOut!.p99.toFixed(1),
      (base.p50 / results.binaryInJsonOut!.p50).toFixed(2),
    ],
    [
      'binary in, binary out',
      mib(binary.body.length),
      results.binary!.p50.toFixed(1),
      results.binary!.p99.toFixed(1),
      (base.p50 / results.binary!.p50).toFixed(2),
    ],
  ];
}

async function createSession(file: string): Promise<{ session: ort.InferenceSession; provider: string }> {
  const weights = await readFile(join(repoRoot, 'models', file.startsWith('ch_PP-OCRv4_rec') ? 'paddleocr-rec' : 'paddleocr-det', file));
  const list = providers.split(',').map((p) => p.trim());
  for (const [i, provider] of list.entries()) {
    try {
      return {
        session: await ort.InferenceSession.create(weights, { ...sessionOptions(undefined), executionProviders: list.slice(i) }),
        provider,
      };
    } catch {
      // next provider
    }
  }
  throw new Error(`no execution provider in ${providers} could load ${file}`);
}

// A node:http server in its own process that does nothing but read a request body and answer with
// `x-response-bytes` fresh bytes: the floor for moving a request's and its response's bytes over
// loopback on this machine, against which the backend's own overhead can be read.
const bareHttpServer = `
import http from 'node:http';
const server = http.createServer((req, res) => {
  const size = Number(req.headers['x-response-bytes']);
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    Buffer.concat(chunks);
    res.writeHead(200, { 'content-length': size });
    res.end(Buffer.allocUnsafe(size));
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

async function startBareHttpServer(): Promise<{ url: URL; stop(): void }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', bareHttpServer], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: new URL(`http://127.0.0.1:${/listening (\d+)/.exec(String(line))![1]}/`), stop: () => child.kill() };
}

async function serverOverhead(off: SpawnedBackend): Promise<(string | number)[][]> {
  const rows: (string | number)[][] = [];
  const bare = await startBareHttpServer();
  for (const c of cases) {
    const { session, provider } = await createSession(c.file);
    for (const rows_ of [1, 8]) {
      const input = batchOf(c.input, rows_);
      const body = encodeBinaryInferRequest({ inputs: [input], binaryOutputs: true });
      const feeds = { x: new ort.Tensor('float32', input.data as Float32Array, input.shape) };
      const responseBytes = (await post(new URL(`/v2/models/${c.model}/infer`, off.url), bodyHeaders(body), body.body)).body.length;
      const inferMs: number[] = [];
      const results = await interleave(
        {
          server: async () => inferMs.push(await infer(off, c.model, body)),
          serverViaFetch: () => inferWithFetch(off, c.model, body),
          inProcess: () => session.run(feeds),
          httpFloor: () =>
            new Promise((resolve, reject) =>
              http.get(new URL('/v2/health/live', off.url), { agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
            ),
          bareHttp: () => post(bare.url, { 'x-response-bytes': String(responseBytes) }, body.body),
        },
        quick ? { warmup: 2, rounds: 2, perRound: 3 } : { warmup: 3, rounds: 4, perRound: 5 },
      );
      const server = results.server!;
      const inProcess = results.inProcess!;
      const bodyMiB = body.body.length / 1024 / 1024;
      rows.push([
        c.model,
        `${rows_}×${c.input.shape.slice(1).join('×')}`,
        provider,
        inProcess.p50.toFixed(1),
        server.p50.toFixed(1),
        summarise(inferMs).p50.toFixed(1),
        (server.p50 - inProcess.p50).toFixed(1),
        `${(((server.p50 - inProcess.p50) / inProcess.p50) * 100).toFixed(1)}%`,
        results.httpFloor!.p50.toFixed(1),
        `${bodyMiB.toFixed(2)} / ${(responseBytes / 1024 / 1024).toFixed(2)}`,
        results.bareHttp!.p50.toFixed(1),
        (server.p50 - inProcess.p50 - results.bareHttp!.p50).toFixed(1),
        results.serverViaFetch!.p50.toFixed(1),
      ]);
    }
    await session.release();
  }
  bare.stop();
  return rows;
}

/** Per model, session.run's time per row in-process by batch size (ascending batch sizes). */
type PerRowMs = Map<string, { batch: number; perRowMs: number }[]>;

/**
 * The most batching can multiply throughput by at `rows` rows per run: per-row time at batch 1 over
 * per-row time at `rows`, interpolated between the batch sizes measured in-process.
 */
function inProcessBound(perRow: PerRowMs, model: string, rows: number): number {
  const points = perRow.get(model)!;
  const single = points[0]!.perRowMs;
  const above = points.findIndex((point) => point.batch >= rows);
  if (above === -1) return single / points.at(-1)!.perRowMs;
  if (above === 0) return 1;
  const [low, high] = [points[above - 1]!, points[above]!];
  const perRowMs = low.perRowMs + ((rows - low.batch) / (high.batch - low.batch)) * (high.perRowMs - low.perRowMs);
  return single / perRowMs;
}

/**
 * What batching can gain on this device at most: session.run's time per row at growing batch sizes,
 * in-process. Serving adds per-request costs that batching does not share (HTTP, bodies, copies).
 */
async function perRowCost(): Promise<{ table: (string | number)[][]; perRow: PerRowMs }> {
  const rows: (string | number)[][] = [];
  const perRow: PerRowMs = new Map();
  for (const c of cases) {
    perRow.set(c.model, []);
    const { session, provider } = await createSession(c.file);
    let singleMs = 0;
    for (const batch of c.model === 'paddleocr-rec' ? [1, 4, 8, 16, 32] : [1, 2, 4, 8]) {
      const input = batchOf(c.input, batch);
      const feeds = { x: new ort.Tensor('float32', input.data as Float32Array, input.shape) };
      const { p50 } = (await interleave({ run: () => session.run(feeds) }, { warmup: 1, rounds: 1, perRound: quick ? 3 : 5 })).run!;
      if (batch === 1) singleMs = p50;
      perRow.get(c.model)!.push({ batch, perRowMs: p50 / batch });
      rows.push([c.model, String(batch), provider, p50.toFixed(1), (p50 / batch).toFixed(2), (singleMs / (p50 / batch)).toFixed(2)]);
    }
    await session.release();
  }
  return { table: rows, perRow };
}

async function main(): Promise<void> {
  const common = { EDGE_SIGNATURE_REQUIRED: 'false', EXECUTION_PROVIDERS: providers, MAX_QUEUE_SIZE: '1024' };
  process.stderr.write('starting three backends (batching on, off, on with MAX_BATCH_SIZE)…\n');
  const [on, off, capped] = await Promise.all([
    spawnBackend(common),
    spawnBackend({ ...common, BATCHING: 'false' }),
    spawnBackend({ ...common, MAX_BATCH_SIZE: String(cappedBatch) }),
  ]);
  const active = on.output.filter((line) => / ready on /.test(line)).map((line) => line.replace(/^.*model /, '').replace(/ \(.*$/, ''));
  try {
    // First, so that the sweep can print beside each measured ratio the most batching could give.
    process.stderr.write('per-row cost by batch size…\n');
    const ceiling = await perRowCost();
    process.stderr.write('concurrency sweep…\n');
    const sweep = await concurrencySweep({ on, off, capped }, ceiling.perRow);
    process.stderr.write('JSON against binary…\n');
    const bodies = await jsonAgainstBinary(off);
    process.stderr.write('server overhead…\n');
    const overhead = await serverOverhead(off);

    console.log(
      `\nedgeinfer gpu-backend benchmark: ${active.join(', ')}; client and servers on one machine, binary tensor bodies unless stated`,
    );
    printTable(
      `Dynamic batching on vs off: closed-loop clients, one request = one row (throughput in requests/s, latency in ms); ≤${cappedBatch}: batching on with MAX_BATCH_SIZE=${cappedBatch}`,
      [
        'model',
        'row',
        'clients',
        'requests',
        'on req/s',
        'off req/s',
        'on/off',
        'bound',
        'on p50',
        'on p99',
        'off p50',
        'off p99',
        'p99 on/off',
        'rows/run (on)',
        `≤${cappedBatch} req/s`,
        `≤${cappedBatch}/off`,
        'bound',
        `≤${cappedBatch} p99`,
        `p99 ≤${cappedBatch}/off`,
      ],
      sweep,
    );
    console.log(
      "bound: the most batching could multiply throughput by at that run's mean rows per run, from session.run in-process (next table): per-row time at batch 1 over per-row time at that batch. Serving adds per-request work that batching does not share (HTTP, body copies, encoding), on the same cores.",
    );
    printTable(
      'What batching can gain here at most: session.run in-process, per row, by batch size (ms)',
      ['model', 'batch', 'provider', 'run p50', 'per row', 'rows/s vs batch 1'],
      ceiling.table,
    );
    printTable(
      'paddleocr-det 1×3×640×640, one client, batching off: JSON against binary tensor data (ms; speed-up against JSON)',
      ['body', 'request size', 'p50', 'p99', 'speed-up'],
      bodies,
    );
    printTable(
      'Server overhead: HTTP round trip (binary bodies, batching off) against session.run in-process, same batch (ms)',
      [
        'model',
        'batch',
        'in-process provider',
        'session.run p50',
        'server p50',
        'of which infer',
        'overhead',
        'overhead %',
        'HTTP floor p50',
        'MiB in / out',
        'bare HTTP, same bytes',
        'overhead past bare HTTP',
        'server p50, fetch client',
      ],
      overhead,
    );
    console.log(
      "of which infer: the server's own Server-Timing for its inference service (queue, handoff to the session thread, session.run, back).",
    );
    console.log('HTTP floor: GET /v2/health/live on the same server, the cost of a round trip that carries no tensor.');
    console.log(
      'bare HTTP, same bytes: a do-nothing node:http server in its own process that reads the same request and answers as many bytes: moving the bytes alone.',
    );
    console.log(
      'Clients are node:http with keep-alive; the last column is the same request from fetch (undici), whose own cost the figures leave out.',
    );
  } finally {
    agent.destroy();
    for (const backend of [on, off, capped]) backend.child.kill('SIGTERM');
    await Promise.all([on.exited, off.exited, capped.exited]);
  }
}

await main();
