// The edge's answers equal onnxruntime-node's on the same real inputs and the same model version (the
// one the edge carries): the WebAssembly build inside workerd computes the same model, not an
// approximation of it.

import * as ortNode from 'onnxruntime-node';
import { join } from 'node:path';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { edgeCarriedVersion } from '../../models/manifest.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';
import { postJson, sileroFrameInput, tensor, textLinePattern } from '../support/infer.ts';
import { readPcm16Wav } from '../support/wav.ts';

const tolerance = 1e-4;
let edge: RunningWorker;

beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

/** onnxruntime-node on the very version the edge carries for `model` (its serving choice). */
async function nativeSession(model: string) {
  const folder = (await loadModelFolders(join(repoRoot, 'models'))).find((f) => f.manifest.name === model)!;
  const carried = edgeCarriedVersion(folder.manifest)!;
  return ortNode.InferenceSession.create(join(folder.dir, carried.file), { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

function expectClose(actual: number[], expected: ArrayLike<number>) {
  expect(actual).toHaveLength(expected.length);
  const worst = actual.reduce((max, value, i) => Math.max(max, Math.abs(value - expected[i]!)), 0);
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('edge parity with onnxruntime-node', () => {
  it('silero-vad gives the same speech probabilities and state over real speech, frame after frame', async () => {
    const { sampleRate, samples } = readPcm16Wav(join(repoRoot, 'test/fixtures/speech-16k.wav'));
    expect(sampleRate).toBe(16000);
    const native = await nativeSession('silero-vad');
    let nativeState: Float32Array = new Float32Array(2 * 128);
    let edgeState: number[] = Array(2 * 128).fill(0);
    const probabilities: number[] = [];

    for (let frame = 0; frame < Math.floor(samples.length / 512); frame++) {
      const input = sileroFrameInput(samples, frame);
      const expected = await native.run({
        input: new ortNode.Tensor('float32', input, [1, input.length]),
        state: new ortNode.Tensor('float32', nativeState, [2, 1, 128]),
        sr: new ortNode.Tensor('int64', BigInt64Array.from([16000n]), []),
      });
      const res = await edge.fetch(
        '/v2/models/silero-vad/infer',
        postJson({
          inputs: [
            tensor('input', 'FP32', [1, input.length], input),
            tensor('state', 'FP32', [2, 1, 128], edgeState),
            tensor('sr', 'INT64', [], [16000]),
          ],
        }),
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
      const output = body.outputs.find((o) => o.name === 'output')!.data;
      const stateN = body.outputs.find((o) => o.name === 'stateN')!.data;
      expectClose(output, expected.output!.data as Float32Array);
      expectClose(stateN, expected.stateN!.data as Float32Array);
      probabilities.push(output[0]!);
      nativeState = expected.stateN!.data as Float32Array;
      edgeState = stateN;
    }
    // The fixture is real speech between silences: the model must have heard both.
    expect(Math.max(...probabilities)).toBeGreaterThan(0.8);
    expect(Math.min(...probabilities)).toBeLessThan(0.1);
  });

  it('paddleocr-cls gives the same direction probabilities for a batch of line crops', async () => {
    const native = await nativeSession('paddleocr-cls');
    const line = textLinePattern();
    const flipped = line.slice().reverse();
    const batch = new Float32Array(line.length * 2);
    batch.set(line, 0);
    batch.set(flipped, line.length);
    const expected = await native.run({ x: new ortNode.Tensor('float32', batch, [2, 3, 48, 192]) });
    const res = await edge.fetch('/v2/models/paddleocr-cls/infer', postJson({ inputs: [tensor('x', 'FP32', [2, 3, 48, 192], batch)] }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: { shape: number[]; data: number[] }[] };
    expect(body.outputs[0]!.shape).toEqual([2, 2]);
    expectClose(body.outputs[0]!.data, expected['softmax_0.tmp_0']!.data as Float32Array);
  });
});
