// `models tune`: the choice rule, and the command on a small model (paddleocr-cls) in both runtimes —
// what it records is a version that may be served, never one that failed its gate.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isServable, parseManifest, type ModelVersion } from '../../models/manifest.ts';
import { chooseServing } from '../../tools/models/tune/choose.ts';
import { tuneCommand } from '../../tools/models/tune/command.ts';
import { quantizeCommand } from '../../tools/models/quantize/command.ts';
import { upsertVersion } from '../../tools/models/quantize/manifest-edit.ts';
import { repoRoot } from '../support/edge-worker.ts';
import { scratchModelFolders } from '../support/model-folders.ts';

describe('chooseServing', () => {
  const m = (version: string, bytes: number, edge: number, gpu: number) => ({ version, bytes, medianMs: { edge, gpu } });

  it('gives the backend the fastest and the edge the smallest within noise of the fastest', () => {
    expect(chooseServing([m('4', 4_700_000, 100, 50), m('4-int8', 1_300_000, 97, 60), m('4-fp16', 2_400_000, 96, 49)])).toEqual({
      edge: '4-int8',
      gpu: '4-fp16',
    });
  });

  it('gives the edge the fastest when the smaller is slower past the noise', () => {
    expect(chooseServing([m('4', 4_700_000, 100, 50), m('4-int8', 1_300_000, 130, 60)])).toEqual({ edge: '4', gpu: '4' });
  });
});

describe('models tune', () => {
  let root: string;
  const lines: string[] = [];
  const options = () => ({ repoRoot, modelsDir: join(root, 'models'), log: (line: string) => lines.push(line) });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'edgeinfer-tune-'));
    await scratchModelFolders(root, {
      'paddleocr-cls': ['ch_ppocr_mobile_v2.0_cls_infer.onnx'],
      'paddleocr-det': ['ch_PP-OCRv4_det_infer.onnx'],
      'paddleocr-rec': ['ch_PP-OCRv4_rec_infer.onnx', 'ppocr_keys_v1.txt'],
    });
    // Two derived versions with verdicts written as `models evaluate` writes them: one passed, one failed.
    const manifestPath = join(root, 'models/paddleocr-cls/manifest.json');
    for (const mode of ['dynamic-uint8', 'static-qdq']) await quantizeCommand(['paddleocr-cls', '--mode', mode], options());
    const versions: ModelVersion[] = JSON.parse(await readFile(manifestPath, 'utf8')).versions;
    const evaluation = (passed: boolean) => ({
      set: 'ocr-printed-39',
      sha256: '0'.repeat(64),
      figures: { lines: 19, exactLineShare: passed ? 1 : 0.5, characterErrorRate: passed ? 0 : 0.1 },
      passed,
      toolVersion: '1',
    });
    await upsertVersion(manifestPath, { ...versions.find((v) => v.version === '2.0-dynamic-uint8')!, evaluation: evaluation(true) });
    await upsertVersion(manifestPath, { ...versions.find((v) => v.version === '2.0-static-qdq')!, evaluation: evaluation(false) });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('times the servable versions in both runtimes, prints the table and records a passing version per tier', async () => {
    await tuneCommand(['paddleocr-cls', '--rounds', '1', '--per-round', '2', '--warmup', '1'], options());
    const manifest = parseManifest(JSON.parse(await readFile(join(root, 'models/paddleocr-cls/manifest.json'), 'utf8')), 'paddleocr-cls');
    for (const tier of ['edge', 'gpu'] as const) {
      const chosen = manifest.versions.find((v) => v.version === manifest.serving?.[tier]);
      expect(chosen, tier).toBeDefined();
      expect(isServable(chosen!)).toBe(true);
      expect(['2.0', '2.0-dynamic-uint8']).toContain(chosen!.version);
    }
    const table = lines.join('\n');
    expect(table).toMatch(/\| 2\.0 +\| 578966 +\| [\d.]+ +\| 1\.00× +\| [\d.]+ +\| 1\.00× +\|/);
    expect(table).toMatch(/\| 2\.0-dynamic-uint8 +\| \d+ +\| [\d.]+ /);
    expect(table).toMatch(
      /\| 2\.0-static-qdq +\| \d+ +\| - +\| - +\| - +\| - +\| never: failed its gate \(exactLineShare 0\.5 < 0\.99, characterErrorRate 0\.1 > 0\.005\)/,
    );
  });

  it('refuses a model it does not know, naming those it does', async () => {
    await expect(tuneCommand(['paddleocr-xx'], options())).rejects.toThrow(
      /no model 'paddleocr-xx'; models: paddleocr-cls, paddleocr-det, paddleocr-rec/,
    );
  });
});
