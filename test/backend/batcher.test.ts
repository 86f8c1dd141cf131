import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datatypeFromOrt, datatypeOf } from '../../protocol/datatypes.ts';
import { Overloaded } from '../../protocol/errors.ts';
import type { Tensor } from '../../protocol/tensor-codec.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import type { Manifest, TensorSpec } from '../../models/manifest.ts';
import { type BatchRequest, DynamicBatcher, type RunModel } from '../../gpu-backend/batcher.ts';
import { concatAlong, splitAlong } from '../../gpu-backend/batch-tensors.ts';
import { repoRoot } from '../support/edge-worker.ts';

// A stand-in model shaped like silero-vad (batch axis 0 on `input`, 1 on `state`, a shared `sr`) whose
// every output row depends only on its own input rows and the shared value, as a real model's do.
const inputs: TensorSpec[] = [
  { name: 'input', datatype: 'FP32', shape: [-1, -1], batchDimension: 0 },
  { name: 'state', datatype: 'FP32', shape: [2, -1, 3], batchDimension: 1 },
  { name: 'sr', datatype: 'INT64', shape: [] },
];
const outputs: TensorSpec[] = [
  { name: 'output', datatype: 'FP32', shape: [-1, 1], batchDimension: 0 },
  { name: 'stateN', datatype: 'FP32', shape: [2, -1, 3], batchDimension: 1 },
];

const rowwiseModel: RunModel = async ([input, state, sr], outputNames) => {
  await new Promise((resolve) => setImmediate(resolve)); // a run takes time, so requests pile up meanwhile
  const rows = input!.shape[0]!;
  const width = input!.shape[1]!;
  const rate = Number((sr!.data as BigInt64Array)[0]!);
  const output = new Float32Array(rows);
  const stateN = new Float32Array(2 * rows * 3);
  for (let b = 0; b < rows; b++) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += (input!.data as Float32Array)[b * width + i]! * (i + 1);
    output[b] = sum + rate;
    for (let k = 0; k < 2; k++) {
      for (let j = 0; j < 3; j++) stateN[k * rows * 3 + b * 3 + j] = (state!.data as Float32Array)[k * rows * 3 + b * 3 + j]! * 2 + sum;
    }
  }
  const all: Record<string, Tensor> = {
    output: { name: 'output', datatype: 'FP32', shape: [rows, 1], data: output },
    stateN: { name: 'stateN', datatype: 'FP32', shape: [2, rows, 3], data: stateN },
  };
  return outputNames.map((name) => all[name]!);
};

function request(rows: number, width: number, sampleRate: number, seed: number, outputNames = ['output', 'stateN']): BatchRequest {
  const input = Float32Array.from({ length: rows * width }, (_, i) => Math.fround(Math.sin(seed * 97 + i)));
  const state = Float32Array.from({ length: 2 * rows * 3 }, (_, i) => Math.fround(Math.cos(seed * 31 + i)));
  return {
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [rows, width], data: input },
      { name: 'state', datatype: 'FP32', shape: [2, rows, 3], data: state },
      { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(BigInt(sampleRate)) },
    ],
    outputNames,
    batchSize: rows,
  };
}

interface Recorded {
  calls: { rows: number; inputs: Tensor[] }[];
  run: RunModel;
}

function recording(run: RunModel): Recorded {
  const calls: Recorded['calls'] = [];
  return {
    calls,
    run: (runInputs, outputNames) => {
      calls.push({ rows: runInputs[0]!.shape[0]!, inputs: runInputs });
      return run(runInputs, outputNames);
    },
  };
}

function batcher(run: RunModel, options: Partial<ConstructorParameters<typeof DynamicBatcher>[0]> = {}): DynamicBatcher {
  return new DynamicBatcher({
    model: 'm',
    inputs,
    outputs,
    maxBatch: 8,
    maxQueueDelayMs: 1,
    maxQueueSize: 1000,
    enabled: true,
    run,
    ...options,
  });
}

describe('concatAlong and splitAlong', () => {
  it('split undoes concat along any axis', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        (axis, sizes, [a, b]) => {
          const parts = sizes.map((size, p) => {
            const shape = [a, b];
            shape.splice(axis, 0, size);
            const length = shape.reduce((n, s) => n * s, 1);
            return { name: 't', datatype: 'FP32' as const, shape, data: Float32Array.from({ length }, (_, i) => p * 1000 + i) };
          });
          const joined = concatAlong(parts, axis);
          expect(joined.shape[axis]).toBe(sizes.reduce((n, s) => n + s, 0));
          const back = splitAlong(joined, axis, sizes);
          back.forEach((piece, p) => {
            expect(piece.shape).toEqual(parts[p]!.shape);
            expect(Array.from(piece.data as Float32Array)).toEqual(Array.from(parts[p]!.data as Float32Array));
          });
        },
      ),
    );
  });
});

describe('DynamicBatcher', () => {
  it('gives every caller exactly the rows an unbatched run gives it, under random concurrent load', async () => {
    const request$ = fc.record({
      rows: fc.integer({ min: 1, max: 4 }),
      width: fc.constantFrom(4, 6),
      sampleRate: fc.constantFrom(8000, 16000),
      seed: fc.integer({ min: 0, max: 1000 }),
      onlyOutput: fc.boolean(),
      startTick: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request$, { minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 8 }), async (specs, maxBatch) => {
        const recorded = recording(rowwiseModel);
        const subject = batcher(recorded.run, { maxBatch: Math.max(maxBatch, 4) });
        const requests = specs.map((s) => request(s.rows, s.width, s.sampleRate, s.seed, s.onlyOutput ? ['stateN'] : ['output', 'stateN']));
        // Callers arrive over a few event-loop turns, so some join a queue that is already forming.
        const answers = await Promise.all(
          requests.map(async (r, i) => {
            for (let tick = 0; tick < specs[i]!.startTick; tick++) await new Promise((resolve) => setImmediate(resolve));
            return subject.submit(r, 10_000);
          }),
        );
        for (const [i, r] of requests.entries()) {
          const alone = await rowwiseModel(r.inputs, r.outputNames);
          expect(answers[i]!.map((t) => ({ ...t, data: Array.from(t.data as Float32Array) }))).toEqual(
            alone.map((t) => ({ ...t, data: Array.from(t.data as Float32Array) })),
          );
        }
        for (const call of recorded.calls) {
          expect(call.rows).toBeLessThanOrEqual(Math.max(maxBatch, 4));
          expect(call.inputs[1]!.shape[1]).toBe(call.rows); // state's batch axis is 1
        }
        expect(recorded.calls.reduce((n, c) => n + c.rows, 0)).toBe(requests.reduce((n, r) => n + r.batchSize, 0));
      }),
      { numRuns: 60 },
    );
  });

  it('joins compatible concurrent requests into one run and keeps incompatible ones apart', async () => {
    const recorded = recording(rowwiseModel);
    const subject = batcher(recorded.run, { maxQueueDelayMs: 20 });
    await Promise.all([
      subject.submit(request(1, 4, 16000, 1), 1000),
      subject.submit(request(2, 4, 16000, 2), 1000),
      subject.submit(request(1, 6, 16000, 3), 1000), // another width
      subject.submit(request(1, 4, 8000, 4), 1000), // another shared sample rate
    ]);
    expect(recorded.calls.map((c) => c.rows).sort()).toEqual([1, 1, 3]);
  });

  it('runs a request that waits for no company as soon as the model is free, with the compatible ones queued before it', async () => {
    const recorded = recording(rowwiseModel);
    // A minute's delay: the test would time out if any request waited it out.
    const subject = batcher(recorded.run, { maxQueueDelayMs: 60_000 });
    const answers = await Promise.all([
      subject.submit(request(1, 4, 16000, 1), 120_000), // a /v2 caller, waiting for company
      subject.submit(request(1, 4, 16000, 2), 120_000, { waitForCompany: false }), // a pipeline's call
    ]);
    expect(answers).toHaveLength(2);
    expect(recorded.calls.map((c) => c.rows)).toEqual([2]);
  });

  it('runs every request by itself when batching is off', async () => {
    const recorded = recording(rowwiseModel);
    const subject = batcher(recorded.run, { enabled: false });
    await Promise.all([1, 2, 3].map((seed) => subject.submit(request(1, 4, 16000, seed), 1000)));
    expect(recorded.calls.map((c) => c.rows)).toEqual([1, 1, 1]);
  });

  it('refuses a request past the queue bound with Overloaded and Retry-After instead of waiting', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const subject = batcher(
      async (i, o) => {
        await blocked;
        return rowwiseModel(i, o);
      },
      { maxQueueSize: 2, enabled: false },
    );
    const running = subject.submit(request(1, 4, 16000, 1), 5_000); // leaves the queue to run
    const queued = [subject.submit(request(1, 4, 16000, 2), 5_000), subject.submit(request(1, 4, 16000, 3), 5_000)];
    const refused = subject.submit(request(1, 4, 16000, 4), 5_000);
    await expect(refused).rejects.toBeInstanceOf(Overloaded);
    await expect(refused).rejects.toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    release();
    await expect(Promise.all([running, ...queued])).resolves.toHaveLength(3);
  });

  it('answers a request still queued at its deadline with Overloaded', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const subject = batcher(
      async (i, o) => {
        await blocked;
        return rowwiseModel(i, o);
      },
      { enabled: false },
    );
    const running = subject.submit(request(1, 4, 16000, 1), 5_000);
    const late = subject.submit(request(1, 4, 16000, 2), 20);
    await expect(late).rejects.toThrow(/did not start this request within 20 ms/);
    expect(subject.queueDepth).toBe(0);
    release();
    await expect(running).resolves.toHaveLength(2);
  });

  it('gives each caller its own error when a joint run fails', async () => {
    const subject = batcher(
      async (i, o) => {
        if ((i[0]!.data as Float32Array).some(Number.isNaN)) throw new Error('NaN input');
        return rowwiseModel(i, o);
      },
      { maxQueueDelayMs: 20 },
    );
    const poisoned = request(1, 4, 16000, 1);
    (poisoned.inputs[0]!.data as Float32Array)[0] = Number.NaN;
    const [bad, good] = await Promise.allSettled([subject.submit(poisoned, 1000), subject.submit(request(1, 4, 16000, 2), 1000)]);
    expect(bad.status).toBe('rejected');
    expect(good.status).toBe('fulfilled');
  });

  it('drain answers everything queued without waiting out the queue delay', async () => {
    const subject = batcher(rowwiseModel, { maxQueueDelayMs: 1000 });
    const pending = [1, 2, 3].map((seed) => subject.submit(request(1, 4, 16000, seed), 5_000));
    const started = performance.now();
    await subject.drain();
    expect(performance.now() - started).toBeLessThan(500);
    await expect(Promise.all(pending)).resolves.toHaveLength(3);
  });
});

describe('DynamicBatcher on a real onnxruntime session (silero-vad: state batched on axis 1, shared sr)', () => {
  let manifest: Manifest;
  let session: ort.InferenceSession;
  const run: RunModel = async (runInputs, outputNames) => {
    const feeds = Object.fromEntries(runInputs.map((t) => [t.name, new ort.Tensor(datatypeOf(t.datatype).ortType, t.data, t.shape)]));
    const results = await session.run(feeds, outputNames);
    return outputNames.map((name) => ({
      name,
      datatype: datatypeFromOrt(results[name]!.type)!,
      shape: [...results[name]!.dims],
      data: results[name]!.data as Tensor['data'],
    }));
  };

  beforeAll(async () => {
    const folder = (await loadModelFolders(`${repoRoot}/models`)).find((f) => f.manifest.name === 'silero-vad')!;
    manifest = folder.manifest;
    const version = manifest.versions[0]!;
    session = await ort.InferenceSession.create(await readFile(`${folder.dir}/${version.file}`), { executionProviders: ['cpu'] });
  });
  afterAll(() => session?.release());

  it('matches unbatched runs exactly for every caller', async () => {
    const frame$ = fc.record({ seed: fc.integer({ min: 0, max: 10_000 }), rows: fc.integer({ min: 1, max: 3 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(frame$, { minLength: 2, maxLength: 12 }), async (frames) => {
        const subject = new DynamicBatcher({
          model: manifest.name,
          inputs: manifest.inputs,
          outputs: manifest.outputs,
          maxBatch: manifest.limits.maxBatch,
          maxQueueDelayMs: 2,
          maxQueueSize: 100,
          enabled: true,
          run,
        });
        const requests: BatchRequest[] = frames.map(({ seed, rows }) => ({
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [rows, 576],
              data: Float32Array.from({ length: rows * 576 }, (_, i) => Math.fround(0.3 * Math.sin(seed + i / 7))),
            },
            {
              name: 'state',
              datatype: 'FP32',
              shape: [2, rows, 128],
              data: Float32Array.from({ length: 2 * rows * 128 }, (_, i) => Math.fround(0.1 * Math.cos(seed + i))),
            },
            { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
          ],
          outputNames: ['output', 'stateN'],
          batchSize: rows,
        }));
        const answers = await Promise.all(requests.map((r) => subject.submit(r, 10_000)));
        for (const [i, r] of requests.entries()) {
          const alone = await run(r.inputs, r.outputNames);
          for (const [o, tensor] of alone.entries()) {
            expect(answers[i]![o]!.shape).toEqual(tensor.shape);
            expect(Array.from(answers[i]![o]!.data as Float32Array)).toEqual(Array.from(tensor.data as Float32Array));
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});
