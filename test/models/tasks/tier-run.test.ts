import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../../protocol/tensor-codec.ts';
import { loadModelFolders } from '../../../models/catalog-fs.ts';
import { findVersion } from '../../../models/manifest.ts';
import { type TierModel, tierRunModel } from '../../../models/tasks/tier-run.ts';
import { parseServerTiming, TaskTimings } from '../../../models/tasks/timings.ts';
import { repoRoot } from '../../support/edge-worker.ts';

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('tierRunModel', () => {
  it('times a model by how long any call of it was unanswered, so calls in flight together are counted once', async () => {
    const folders = await loadModelFolders(join(repoRoot, 'models'));
    const modelNamed = (name: string): TierModel => {
      const { manifest } = folders.find((f) => f.manifest.name === name)!;
      return { manifest, version: findVersion(manifest, undefined)! };
    };
    let nowMs = 0;
    const timings = new TaskTimings(() => nowMs);
    const answers: { model: string; answer: () => void }[] = [];
    const { run, models } = tierRunModel(
      modelNamed,
      (model) =>
        new Promise<Tensor[]>((resolve) =>
          answers.push({
            model: model.manifest.name,
            answer: () => resolve([{ name: 'out', datatype: 'FP32', shape: [1], data: new Float32Array(1) }]),
          }),
        ),
      timings,
    );
    const feeds = { x: { datatype: 'FP32' as const, shape: [1, 3, 48, 8], data: new Float32Array(3 * 48 * 8) } };
    const answer = async (model: string, atMs: number) => {
      nowMs = atMs;
      answers
        .splice(
          answers.findIndex((a) => a.model === model),
          1,
        )[0]!
        .answer();
      await settled();
    };

    // rec: two calls overlapping over 0-30 ms, then one alone over 40-45 ms: 35 ms, not 20 + 25 + 5.
    const first = run('paddleocr-rec', feeds);
    nowMs = 10;
    const second = run('paddleocr-rec', feeds);
    // cls runs meanwhile, 12-18 ms: its own 6 ms, whatever rec is doing.
    nowMs = 12;
    const cls = run('paddleocr-cls', feeds);
    await answer('paddleocr-cls', 18);
    await answer('paddleocr-rec', 20);
    await answer('paddleocr-rec', 30);
    nowMs = 40;
    const third = run('paddleocr-rec', feeds);
    await answer('paddleocr-rec', 45);
    await Promise.all([first, second, third, cls]);

    const timing = parseServerTiming(timings.serverTiming(50));
    expect(timing).toEqual({ 'model-paddleocr-rec': 35, 'model-paddleocr-cls': 6, task: 50 });
    expect(Object.keys(models).sort()).toEqual(['paddleocr-cls', 'paddleocr-rec']);
  });

  it('counts a call that failed until it failed', async () => {
    const folders = await loadModelFolders(join(repoRoot, 'models'));
    const { manifest } = folders.find((f) => f.manifest.name === 'paddleocr-cls')!;
    let nowMs = 0;
    const timings = new TaskTimings(() => nowMs);
    const { run } = tierRunModel(
      () => ({ manifest, version: findVersion(manifest, undefined)! }),
      async () => {
        nowMs = 7;
        throw new Error('the model refused the input');
      },
      timings,
    );
    await expect(
      run('paddleocr-cls', { x: { datatype: 'FP32', shape: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } }),
    ).rejects.toThrow('the model refused the input');
    expect(parseServerTiming(timings.serverTiming(9))).toEqual({ 'model-paddleocr-cls': 7, task: 9 });
  });
});
