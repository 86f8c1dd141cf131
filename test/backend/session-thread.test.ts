// One session thread (gpu-backend/session-thread.ts) with real silero-vad weights: a request that
// onnxruntime refuses, even one that gets past every check before it (a tensor whose dims are not
// integers, data shorter than its shape), is that request's RunFailed and the thread keeps serving;
// a scan gives the same probabilities as running its steps one message at a time.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionOptions } from '../../gpu-backend/runtime.ts';
import { RunFailed, SessionThread } from '../../gpu-backend/session-thread.ts';
import type { WireTensor } from '../../gpu-backend/session-messages.ts';
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
});
