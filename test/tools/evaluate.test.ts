// `models evaluate`: the task-level figures, the budget that gates them, and the command that writes
// the verdict into the manifest — a known-good variant passes, one with its scales multiplied by ten
// is refused with its figures and is never servable.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findVersion, isServable, parseManifest, servableVersions, type Manifest } from '../../models/manifest.ts';
import { judge } from '../../tools/models/evaluate/budget.ts';
import { evaluateCommand } from '../../tools/models/evaluate/command.ts';
import { boxIoU, editDistance, ocrFigures, vadFigures } from '../../tools/models/evaluate/figures.ts';
import { quantizeCommand } from '../../tools/models/quantize/command.ts';
import { upsertVersion } from '../../tools/models/quantize/manifest-edit.ts';
import { allGraphs, decodeModel, encodeModel, floatData, floatTensor } from '../../tools/models/quantize/onnx-io.ts';
import { repoRoot } from '../support/edge-worker.ts';
import { scratchModelFolders } from '../support/model-folders.ts';
import { createHash } from 'node:crypto';

const box = (x0: number, y0: number, x1: number, y1: number) =>
  [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ] as [[number, number], [number, number], [number, number], [number, number]];
const line = (text: string, b = box(0, 0, 100, 20)) => ({ text, confidence: 0.9, box: b });

describe('judge', () => {
  it('passes figures at their limits and names each miss with how far it is past', () => {
    const budget = { minExactLineShare: 0.99, maxCharacterErrorRate: 0.005 };
    expect(judge({ exactLineShare: 0.99, characterErrorRate: 0.005 }, budget)).toEqual({ passed: true, misses: [] });
    const verdict = judge({ exactLineShare: 0.9, characterErrorRate: 0.001 }, budget);
    expect(verdict.passed).toBe(false);
    expect(verdict.misses).toEqual([
      { budget: 'minExactLineShare', figure: 'exactLineShare', value: 0.9, limit: 0.99, by: expect.closeTo(0.09, 9) },
    ]);
  });

  it('refuses a candidate that reads fewer lines as printed than float32, though it agrees within its budget', () => {
    const budget = { minExactLineShare: 0.95, maxCharacterErrorRate: 0.01 };
    const figures = { exactLineShare: 0.98, characterErrorRate: 0.002, printedLinesLost: 0 };
    expect(judge(figures, budget)).toEqual({ passed: true, misses: [] });
    expect(judge({ ...figures, printedLinesLost: 1 }, budget)).toEqual({
      passed: false,
      misses: [{ budget: 'maxPrintedLinesLost', figure: 'printedLinesLost', value: 1, limit: 0, by: 1 }],
    });
    // A model may allow some in its manifest.
    expect(judge({ ...figures, printedLinesLost: 1 }, { ...budget, maxPrintedLinesLost: 1 }).passed).toBe(true);
  });

  it('refuses a budget the evaluation does not measure instead of passing it', () => {
    expect(() => judge({ frameAgreement: 1 }, { minMeanBoxIoU: 0.9 })).toThrow(/measures no 'meanBoxIoU'/);
  });
});

describe('figures', () => {
  it('counts edits over code points', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('Ünï', 'Uni')).toBe(2);
  });

  it('scores boxes by the overlap of their rectangles', () => {
    expect(boxIoU(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(boxIoU(box(0, 0, 10, 10), box(5, 0, 15, 10))).toBeCloseTo(1 / 3);
  });

  it('pairs lines by their boxes: a lost line reads as nothing, an extra line counts as insertions', () => {
    const figures = ocrFigures([
      { source: [line('abcd'), line('efgh', box(0, 40, 100, 60))], candidate: [line('abcd'), line('xy', box(0, 90, 50, 110))] },
    ]);
    expect(figures.exactLineShare).toBe(0.5);
    expect(figures.characterErrorRate).toBe((4 + 2) / 8);
    expect(figures.meanBoxIoU).toBe(0.5);
  });

  it('tells a line that differs only in spaces from one misread', () => {
    const figures = ocrFigures([{ source: [line('a b c')], candidate: [line('ab c')] }]);
    expect(figures).toMatchObject({ exactLineShare: 0, exactLineShareIgnoringSpaces: 1 });
  });

  it('scores both readings against the print: exact, ignoring spaces, CER, and the lines the candidate lost', () => {
    const better = ocrFigures([
      { source: [line('Pleasesign both')], candidate: [line('Please sign both')], printed: ['Please sign both'] },
    ]);
    expect(better).toMatchObject({
      exactLineShare: 0,
      printedLines: 1,
      printedLineShareSource: 0,
      printedLineShareCandidate: 1,
      printedLineShareIgnoringSpacesSource: 1,
      printedLineShareIgnoringSpacesCandidate: 1,
      printedCharacterErrorRateSource: 1 / 16,
      printedCharacterErrorRateCandidate: 0,
      printedLinesLost: 0,
    });
    const worse = ocrFigures([
      {
        source: [line('Total: 118.40 EUR'), line('Due 30 June', box(0, 40, 100, 60))],
        candidate: [line('Total:118.40 EUR'), line('Due 30 June', box(0, 40, 100, 60))],
        printed: ['Total: 118.40 EUR', 'Due 30 June'],
      },
    ]);
    expect(worse).toMatchObject({ printedLineShareSource: 1, printedLineShareCandidate: 0.5, printedLinesLost: 1 });
  });

  it('agrees frame by frame at the threshold and measures each boundary to the nearest of its kind', () => {
    const figures = vadFigures(
      [
        {
          source: { probabilities: Float32Array.of(0.1, 0.6, 0.7, 0.2), segments: [{ start_ms: 32, end_ms: 96 }] },
          candidate: { probabilities: Float32Array.of(0.1, 0.4, 0.7, 0.2), segments: [{ start_ms: 64, end_ms: 96 }] },
        },
      ],
      0.5,
    );
    expect(figures).toMatchObject({ frames: 4, frameAgreement: 0.75, boundaryShiftMs: 32 });
  });

  it('counts a lost segment as a shift, never as none', () => {
    const figures = vadFigures(
      [
        {
          source: { probabilities: Float32Array.of(0.9), segments: [{ start_ms: 0, end_ms: 32 }] },
          candidate: { probabilities: Float32Array.of(0.1), segments: [] },
        },
      ],
      0.5,
    );
    expect(figures.boundaryShiftMs).toBeGreaterThan(1e6);
  });
});

describe('models evaluate', () => {
  let root: string;
  const log = () => {};
  const options = () => ({ repoRoot, modelsDir: join(root, 'models'), log });
  const manifestOf = async (model: string): Promise<Manifest> =>
    parseManifest(JSON.parse(await readFile(join(root, 'models', model, 'manifest.json'), 'utf8')), model);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'edgeinfer-evaluate-'));
    await scratchModelFolders(root, {
      'silero-vad': ['silero_vad_v5.onnx'],
      'paddleocr-cls': ['ch_ppocr_mobile_v2.0_cls_infer.onnx'],
      'paddleocr-det': ['ch_PP-OCRv4_det_infer.onnx'],
      'paddleocr-rec': ['ch_PP-OCRv4_rec_infer.onnx', 'ppocr_keys_v1.txt'],
    });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('passes a known-good variant (silero-vad weight-int8) and records its figures: servable', async () => {
    await quantizeCommand(['silero-vad', '--mode', 'weight-int8'], options());
    await evaluateCommand(['silero-vad', '5-weight-int8'], options());
    const manifest = await manifestOf('silero-vad');
    const version = manifest.versions.find((v) => v.version === '5-weight-int8')!;
    expect(version.evaluation).toMatchObject({
      set: 'speech-eval-3',
      passed: true,
      figures: { frameAgreement: expect.any(Number), boundaryShiftMs: expect.any(Number) },
    });
    expect(version.evaluation!.figures.frameAgreement).toBeGreaterThanOrEqual(manifest.accuracy!.minFrameAgreement!);
    expect(isServable(version)).toBe(true);
    expect(findVersion(manifest, '5-weight-int8')).toBeDefined();
  });

  it('refuses a variant whose scales were multiplied by ten, with its figures, and never serves it', async () => {
    await quantizeCommand(['silero-vad', '--mode', 'weight-int8'], options());
    const manifestPath = join(root, 'models/silero-vad/manifest.json');
    const good = (await manifestOf('silero-vad')).versions.find((v) => v.version === '5-weight-int8')!;
    const model = decodeModel(new Uint8Array(await readFile(join(root, 'models/silero-vad', good.file))));
    let scaled = 0;
    for (const graph of allGraphs(model.graph)) {
      graph.initializer = graph.initializer.map((t) =>
        t.name.endsWith('_scale')
          ? (scaled++,
            floatTensor(
              t.name,
              t.dims.map(Number),
              floatData(t).map((s) => s * 10),
            ))
          : t,
      );
    }
    expect(scaled).toBeGreaterThan(0);
    const bytes = encodeModel(model);
    await writeFile(join(root, 'models/silero-vad/silero_vad_v5.broken.onnx'), bytes);
    await upsertVersion(manifestPath, {
      ...good,
      version: '5-broken',
      file: 'silero_vad_v5.broken.onnx',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    });

    await expect(evaluateCommand(['silero-vad', '5-broken'], options())).rejects.toThrow(
      /silero-vad@5-broken failed its accuracy gate and will not be served:\n {2}frameAgreement [\d.]+ < 0\.9800 \(minFrameAgreement\), missed by [\d.]+/,
    );
    const manifest = await manifestOf('silero-vad');
    const broken = manifest.versions.find((v) => v.version === '5-broken')!;
    expect(broken.evaluation).toMatchObject({ passed: false, figures: { frameAgreement: expect.any(Number) } });
    expect(broken.evaluation!.figures.frameAgreement).toBeLessThan(0.98);
    expect(isServable(broken)).toBe(false);
    expect(findVersion(manifest, '5-broken')).toBeUndefined();
    expect(servableVersions(manifest).map((v) => v.version)).not.toContain('5-broken');
    const raw = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(() => parseManifest({ ...raw, serving: { edge: '5-broken' } }, 'silero-vad')).toThrow(
      /serving\.edge: '5-broken' must be a version that is npm-sourced or passed/,
    );
  });

  it('gates an OCR model on its lines: paddleocr-cls dynamic-uint8 reads every line as float32 does', async () => {
    await quantizeCommand(['paddleocr-cls', '--mode', 'dynamic-uint8'], options());
    await evaluateCommand(['paddleocr-cls', '2.0-dynamic-uint8'], options());
    const version = (await manifestOf('paddleocr-cls')).versions.find((v) => v.version === '2.0-dynamic-uint8')!;
    expect(version.evaluation).toMatchObject({
      set: 'ocr-printed-39',
      passed: true,
      figures: { exactLineShare: 1, characterErrorRate: 0, printedLines: 90, printedLinesLost: 0 },
    });
    // Float32 with the pipeline's settings reads the printed set as printed, spaces and all.
    expect(version.evaluation!.figures.printedLineShareSource).toBeGreaterThanOrEqual(0.95);
    // 39 images read twice on one thread: longer than the default timeout on a loaded machine.
  }, 240_000);

  it('evaluates only a derived version, naming what exists', async () => {
    await expect(evaluateCommand(['silero-vad', '5'], options())).rejects.toThrow(/npm-sourced original/);
    await expect(evaluateCommand(['silero-vad', '9'], options())).rejects.toThrow(/no version '9'; versions: 5/);
  });
});
