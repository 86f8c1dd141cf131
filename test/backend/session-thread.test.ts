// One session thread (gpu-backend/session-thread.ts) with real silero-vad weights: a request that
// onnxruntime refuses, even one that gets past every check before it (a tensor whose dims are not
// integers, data shorter than its shape), is that request's RunFailed and the thread keeps serving;
// a scan gives the same probabilities as running its steps one message at a time, and answers a ping,
// another run, a cancel or a release sent while it is under way between two of its steps.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionOptions } from '../../gpu-backend/runtime.ts';
import { RunFailed, SessionThread } from '../../gpu-backend/session-thread.ts';
import type { WireScan, WireTensor } from '../../gpu-backend/session-messages.ts';
import { scanStepsBetweenTurns } from '../../gpu-backend/native-scan.ts';
import { repoRoot } from '../support/edge-worker.ts';

let thread: SessionThread;
beforeAll(async () => {
  const weights = new Uint8Array(await readFile(join(repoRoot, 'models/silero-vad/silero_vad_v5.onnx')));
  ({ thread } = await SessionThread.start(weights, ['cpu'], sessionOptions(1)));
});
afterAll(() => thread?.close());

const frame = (samples = new Float32Array(576)) => [
  { name: 'input', datatype: 'FP32' as const, shape: [1, 576], data: samples },
  { name: 'state', datatype: 'FP32' as const, shape: [2, 1, 128], data: new Float32Array(256) },
  { name: 'sr', datatype: 'INT64' as const, shape: [], data: BigInt64Array.of(16000n) },
];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** Speech-like audio: bursts of a tone and near-silence, for `steps` Silero frames. */
const burstyAudio = (steps: number) =>
  new Float32Array(64 + steps * 512).map((_, i) => 0.4 * Math.sin(i / 7) * (i % 3000 < 1500 ? 1 : 0.05));

function vadScan(audio: Float32Array, steps: number): WireScan {
  return {
    window: { name: 'input', data: audio, width: 576, hop: 512, steps },
    carry: {
      input: 'state',
      output: 'stateN',
      initial: { name: 'state', ortType: 'float32', shape: [2, 1, 128], data: new Float32Array(256) },
    },
    fixed: [{ name: 'sr', ortType: 'int64', shape: [], data: BigInt64Array.of(16000n) }],
    collect: 'output',
  };
}

/** The speech probabilities of every frame, one run message per frame, the state carried here. */
async function perStepProbabilities(on: SessionThread, audio: Float32Array, steps: number): Promise<number[]> {
  const expected: number[] = [];
  let state: Float32Array<ArrayBufferLike> = new Float32Array(256);
  for (let step = 0; step < steps; step++) {
    const [output, stateN] = await on.run(
      [
        { name: 'input', datatype: 'FP32', shape: [1, 576], data: audio.slice(step * 512, step * 512 + 576) },
        { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: state },
        { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
      ],
      ['output', 'stateN'],
    );
    expected.push(output!.data[0] as number);
    state = stateN!.data as Float32Array;
  }
  return expected;
}

describe('SessionThread', () => {
  it('answers a tensor onnxruntime cannot build with RunFailed and keeps serving', async () => {
    // Fresh tensors for each request: a run moves its inputs' buffers to the thread.
    const withInput = (change: object) => {
      const [input, state, sr] = frame();
      return [{ ...input!, ...change }, state!, sr!];
    };
    for (const bad of [
      withInput({ shape: [1, 1e300] }),
      withInput({ shape: [1, 2 ** 53 + 2] }),
      withInput({ shape: [1, 0.5] }),
      withInput({ data: new Float32Array(3) }),
    ]) {
      expect(await rejection(thread.run(bad, ['output']))).toBeInstanceOf(RunFailed);
      expect(thread.stopped).toBeUndefined();
    }
    const [output] = await thread.run(frame(), ['output']);
    expect(output!.shape).toEqual([1, 1]);
  });

  it('runs a scan over frames with the state carried on the thread, as frame-by-frame runs do', async () => {
    const steps = 12;
    const audio = new Float32Array(64 + steps * 512).map((_, i) => 0.4 * Math.sin(i / 7) * (i % 3000 < 1500 ? 1 : 0.05));
    const expected: number[] = [];
    let state: Float32Array<ArrayBufferLike> = new Float32Array(256);
    for (let step = 0; step < steps; step++) {
      const window = audio.slice(step * 512, step * 512 + 576);
      const [output, stateN] = await thread.run(
        [
          { name: 'input', datatype: 'FP32', shape: [1, 576], data: window },
          { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: state },
          { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
        ],
        ['output', 'stateN'],
      );
      expected.push(output!.data[0] as number);
      state = stateN!.data as Float32Array;
    }
    const initial: WireTensor = { name: 'state', ortType: 'float32', shape: [2, 1, 128], data: new Float32Array(256) };
    const [collected] = await thread.scan({
      window: { name: 'input', data: audio, width: 576, hop: 512, steps },
      carry: { input: 'state', output: 'stateN', initial },
      fixed: [{ name: 'sr', ortType: 'int64', shape: [], data: BigInt64Array.of(16000n) }],
      collect: 'output',
    });
    expect(collected!.shape).toEqual([steps, 1]);
    expect([...(collected!.data as Float32Array)]).toEqual(expected);
  });

  it('answers a ping and another run between the steps of a long scan, and the scan still gives what frame-by-frame runs give', async () => {
    const steps = scanStepsBetweenTurns * 5 + 17;
    const audio = burstyAudio(steps);
    const expected = await perStepProbabilities(thread, audio, steps);
    const answered: string[] = [];
    const scanning = thread.scan(vadScan(audio, steps)).then((outputs) => {
      answered.push('scan');
      return outputs;
    });
    const pinged = thread.ping().then((scans) => {
      answered.push('ping');
      return scans;
    });
    const ran = thread.run(frame(), ['output']).then(() => answered.push('run'));
    const [[collected], scans] = await Promise.all([scanning, pinged, ran]);
    expect(answered).toEqual(['ping', 'run', 'scan']);
    expect(scans).toHaveLength(1);
    expect(scans[0]!.steps).toBe(steps);
    expect(scans[0]!.step).toBeGreaterThan(0);
    expect(scans[0]!.step).toBeLessThan(steps);
    expect(collected!.shape).toEqual([steps, 1]);
    expect([...(collected!.data as Float32Array)]).toEqual(expected);
    expect(await thread.ping()).toEqual([]);
  });

  it('stops a scan whose signal aborts at its next turn, as RunFailed, and keeps serving', async () => {
    const steps = scanStepsBetweenTurns * 40;
    const controller = new AbortController();
    const scanning = rejection(thread.scan(vadScan(burstyAudio(steps), steps), controller.signal));
    const [under] = await thread.ping();
    expect(under!.step).toBeLessThan(steps);
    controller.abort();
    const err = await scanning;
    expect(err).toBeInstanceOf(RunFailed);
    expect((err as Error).message).toMatch(/^cancelled at step \d+ of 2560$/);
    expect(await thread.ping()).toEqual([]);
    const [output] = await thread.run(frame(), ['output']);
    expect(output!.shape).toEqual([1, 1]);
  });

  it('closes during a scan: the scan is rejected at its next turn, not left pending', async () => {
    const weights = new Uint8Array(await readFile(join(repoRoot, 'models/silero-vad/silero_vad_v5.onnx')));
    const { thread: closing } = await SessionThread.start(weights, ['cpu'], sessionOptions(1));
    const steps = scanStepsBetweenTurns * 40;
    const scanning = rejection(closing.scan(vadScan(burstyAudio(steps), steps)));
    expect(await closing.ping()).toHaveLength(1);
    await closing.close();
    expect(await scanning).toBeInstanceOf(Error);
  });
});
