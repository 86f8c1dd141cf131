// gpu-backend/native-session.ts on real weights: onnxruntime-node's native binding still has the shape
// the module was written for (this suite fails loudly when an upgrade changes it), its synchronous run
// answers exactly what the public async run answers (silero-vad with its state carried, a PaddleOCR
// classifier), a run onnxruntime refuses is a NativeRunFailed after which the session keeps serving,
// and a provider that cannot load gives way to the next one.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadNativeSession,
  type NativeSession,
  NativeRunFailed,
  nativeBinding,
  NoProviderLoaded,
} from '../../gpu-backend/native-session.ts';
import { sessionOptions } from '../../gpu-backend/runtime.ts';
import { repoRoot } from '../support/edge-worker.ts';

const options = sessionOptions(1);
const weightsOf = async (path: string) => new Uint8Array(await readFile(join(repoRoot, 'models', path)));

let vadWeights: Uint8Array;
let vad: NativeSession;
let vadPublic: ort.InferenceSession;
beforeAll(async () => {
  vadWeights = await weightsOf('silero-vad/silero_vad_v5.onnx');
  ({ session: vad } = loadNativeSession(vadWeights, ['cpu'], options));
  vadPublic = await ort.InferenceSession.create(vadWeights, { ...options, executionProviders: ['cpu'] });
});
afterAll(async () => {
  vad?.release();
  await vadPublic?.release();
});

const vadFeeds = (window: Float32Array, state: ort.Tensor) => ({
  input: new ort.Tensor('float32', window, [1, window.length]),
  state,
  sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
});

describe('nativeBinding', () => {
  it("finds every member of onnxruntime-node's binding it uses, and a run that answers at once, not a promise", () => {
    const { binding, initOrt } = nativeBinding();
    initOrt();
    const session = new binding.InferenceSession();
    session.loadModel(vadWeights.buffer, vadWeights.byteOffset, vadWeights.byteLength, { ...options, executionProviders: ['cpu'] });
    try {
      expect(session.inputMetadata.map((m) => m.name)).toEqual(['input', 'state', 'sr']);
      const state = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]);
      const results = session.run(vadFeeds(new Float32Array(576), state), { output: null, stateN: null }, {});
      expect(typeof (results as { then?: unknown }).then).toBe('undefined');
      expect(results.output).toBeInstanceOf(ort.Tensor);
      expect(binding.listSupportedBackends().map((backend) => backend.name)).toContain('cpu');
    } finally {
      session.dispose();
    }
  });
});

describe('loadNativeSession', () => {
  it("names the model's inputs and outputs as the public session does", () => {
    expect(vad.inputNames).toEqual(vadPublic.inputNames);
    expect(vad.outputNames).toEqual(vadPublic.outputNames);
  });

  it('answers what the public async run answers on silero-vad, step after step with the state carried', async () => {
    const audio = new Float32Array(64 + 40 * 512).map((_, i) => 0.4 * Math.sin(i / 9) * (i % 4000 < 2000 ? 1 : 0.02));
    let nativeState: ort.Tensor = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]);
    let publicState = nativeState;
    for (let step = 0; step < 40; step++) {
      const window = audio.slice(step * 512, step * 512 + 576);
      const native = vad.run(vadFeeds(window, nativeState), ['output', 'stateN']);
      const reference = await vadPublic.run(vadFeeds(window, publicState), ['output', 'stateN']);
      expect(native.output!.dims).toEqual(reference.output!.dims);
      expect([...(native.output!.data as Float32Array)]).toEqual([...(reference.output!.data as Float32Array)]);
      expect([...(native.stateN!.data as Float32Array)]).toEqual([...(reference.stateN!.data as Float32Array)]);
      nativeState = native.stateN!;
      publicState = reference.stateN!;
    }
  });

  it('answers what the public async run answers on the PaddleOCR direction classifier', async () => {
    const weights = await weightsOf('paddleocr-cls/ch_ppocr_mobile_v2.0_cls_infer.onnx');
    const { session } = loadNativeSession(weights, ['cpu'], options);
    const reference = await ort.InferenceSession.create(weights, { ...options, executionProviders: ['cpu'] });
    try {
      const crops = new Float32Array(2 * 3 * 48 * 192).map((_, i) => Math.sin(i / 13) * Math.cos(i / 1700));
      const feeds = { x: new ort.Tensor('float32', crops, [2, 3, 48, 192]) };
      const [name] = session.outputNames;
      const native = session.run(feeds, [name!])[name!]!;
      const expected = (await reference.run(feeds, [name!]))[name!]!;
      expect(native.dims).toEqual([2, 2]);
      expect([...(native.data as Float32Array)]).toEqual([...(expected.data as Float32Array)]);
    } finally {
      session.release();
      await reference.release();
    }
  });

  it('answers a run onnxruntime refuses with NativeRunFailed, and keeps serving', () => {
    const state = () => new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]);
    const { sr, ...withoutSr } = vadFeeds(new Float32Array(576), state());
    const refused = [
      () => vad.run(vadFeeds(new Float32Array(5), state()), ['output']),
      () => vad.run(withoutSr, ['output']),
      () => vad.run(vadFeeds(new Float32Array(576), state()), ['no-such-output']),
      () => vad.run({ ...vadFeeds(new Float32Array(576), state()), sr: new ort.Tensor('float32', new Float32Array(1), []) }, ['output']),
    ];
    for (const run of refused) expect(run).toThrow(NativeRunFailed);
    expect(sr.dims).toEqual([]);
    expect(vad.run(vadFeeds(new Float32Array(576), state()), ['output']).output!.dims).toEqual([1, 1]);
  });

  it('refuses a provider this build does not register and loads the next, saying why', () => {
    const { session, provider, failures } = loadNativeSession(vadWeights, ['no-such-provider', 'cpu'], options);
    session.release();
    expect(provider).toBe('cpu');
    expect(failures).toEqual(['no-such-provider unavailable (this onnxruntime-node build does not register it)']);
  });

  it('falls back from CUDA to the CPU where CUDA cannot start, saying why', () => {
    const { session, provider, failures } = loadNativeSession(vadWeights, ['cuda', 'cpu'], options);
    session.release();
    // On a machine with a GPU and CUDA's libraries the session is CUDA's, and nothing failed.
    if (provider === 'cuda') expect(failures).toEqual([]);
    else {
      expect(provider).toBe('cpu');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatch(/^cuda unavailable \(.+\)$/);
    }
  });

  it('throws NoProviderLoaded, with every reason, when no provider loads', () => {
    let thrown: unknown;
    try {
      loadNativeSession(new Uint8Array([1, 2, 3, 4]), ['no-such-provider', 'cpu'], options);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(NoProviderLoaded);
    expect((thrown as NoProviderLoaded).failures).toHaveLength(2);
    expect((thrown as NoProviderLoaded).failures[1]).toMatch(/^cpu unavailable/);
  });
});
