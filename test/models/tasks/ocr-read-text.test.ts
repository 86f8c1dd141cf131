// The OCR pipeline on real images: text rendered with ImageMagick in four fonts and several sizes, as
// PNG and JPEG, one page of ten lines and lines turned upside down, read through onnxruntime-node; and
// the same images read by an independent implementation of the same weights (@gutenye/ocr-node).
//
// Lines are compared exactly as printed, spaces included: the pipeline's settings
// (models/tasks/ocr/settings.ts) were chosen so that PP-OCRv4 reads Latin text with its spaces.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Ocr from '@gutenye/ocr-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocrTask } from '../../../models/tasks/catalog.ts';
import { parseDictionary, readText, type Dictionary } from '../../../models/tasks/ocr/index.ts';
import type { PipelineStage } from '../../../models/tasks/run-model.ts';
import { OcrResult } from '../../../protocol/tasks.ts';
import { nativeRunModel } from '../../support/native-run-model.ts';
import {
  hasImageMagick,
  textRenderer,
  withExifOrientation,
  type RenderedImage,
  type Renderer,
  type RenderOptions,
} from '../../support/render-text.ts';
import { repoRoot } from '../../support/edge-worker.ts';

// Phrases free of glyphs no reader can tell apart in a sans font (I and l, O and 0).
const phrase = 'Quarterly report, page 7';
const page = [
  'Dear customer, thank you for',
  'your order of 12 March 2025.',
  'The parcel left our warehouse',
  'in Hamburg this morning and',
  'should arrive within 3 days.',
  'Tracking number: DE 4471 9920',
  'Questions? Write to us at',
  'help@example.com or call',
  '+49 40 555 8199 (9am to 5pm).',
  'Kind regards, the shipping team',
];

interface Case {
  name: string;
  options: RenderOptions;
}

const singleLines: Case[] = [
  ...(['DejaVu-Sans', 'Liberation-Serif', 'Liberation-Sans', 'Liberation-Mono'] as const).flatMap((font) =>
    [22, 36].map((pointSize) => ({
      name: `${font}-${pointSize}pt.png`,
      options: { lines: [phrase], font, pointSize, format: 'png' as const },
    })),
  ),
  ...(
    [
      ['DejaVu-Sans', 18, 75],
      ['Liberation-Serif', 26, 80],
      ['Liberation-Sans', 30, 85],
      ['Liberation-Mono', 20, 90],
    ] as const
  ).map(([font, pointSize, quality]) => ({
    name: `${font}-${pointSize}pt-q${quality}.jpeg`,
    options: { lines: [phrase], font, pointSize, format: 'jpeg' as const, quality },
  })),
];
const pageCase: Case = { name: 'page-10-lines.png', options: { lines: page, font: 'DejaVu-Sans', pointSize: 22, format: 'png' } };
const upsideDown: Case[] = (['png', 'jpeg'] as const).map((format) => ({
  name: `upside-down.${format}`,
  options: { lines: ['Shipping to Hamburg on 12 March'], font: 'Liberation-Serif', pointSize: 30, format, rotate: 180 },
}));

describe.skipIf(!hasImageMagick)('readText on rendered text', () => {
  const native = nativeRunModel();
  let renderer: Renderer;
  let dictionary: Dictionary;
  const images = new Map<string, RenderedImage>();

  beforeAll(async () => {
    renderer = await textRenderer();
    dictionary = parseDictionary(await readFile(join(repoRoot, 'models/paddleocr-rec/ppocr_keys_v1.txt'), 'utf8'), 6625);
    for (const { name, options } of [...singleLines, pageCase, ...upsideDown]) images.set(name, await renderer.render(name, options));
  }, 60_000);
  afterAll(() => renderer?.close());

  const read = (name: string, timer?: (stage: PipelineStage, ms: number) => void) =>
    readText(images.get(name)!.bytes, native.run, { dictionary, maxPixels: ocrTask.limits.maxPixels, timer });

  it.each(singleLines)('reads $name exactly as printed, spaces included', async ({ name }) => {
    const result = await read(name);
    expect(OcrResult.parse(result)).toEqual(result);
    expect(result.lines.map((line) => line.text)).toEqual([phrase]);
    expect(result.lines[0]!.confidence).toBeGreaterThan(0.85);
  });

  it('reads a page of ten lines as printed, in reading order, each box below the one before', async () => {
    const result = await read(pageCase.name);
    expect(result.lines.map((line) => line.text)).toEqual(page);
    expect(result.text).toBe(page.join('\n'));
    const tops = result.lines.map((line) => line.box[0][1]);
    expect(tops).toEqual([...tops].sort((a, b) => a - b));
  });

  it('reads the page the same with one line per recogniser run', async () => {
    const batched = await read(pageCase.name);
    const single = await readText(images.get(pageCase.name)!.bytes, native.run, {
      dictionary,
      maxPixels: ocrTask.limits.maxPixels,
      recBatchLines: 1,
    });
    expect(single.lines.map((line) => line.text)).toEqual(batched.lines.map((line) => line.text));
    expect(single.lines.map((line) => line.box)).toEqual(batched.lines.map((line) => line.box));
  });

  it.each(upsideDown)('turns the upside-down line of $name and gives its box as read', async ({ name }) => {
    const result = await read(name);
    expect(result.lines.map((line) => line.text)).toEqual(['Shipping to Hamburg on 12 March']);
    // Read upside down, the text's top-left corner lies at the image's bottom right.
    const [topLeft, topRight, bottomRight] = result.lines[0]!.box;
    expect(topLeft[0]).toBeGreaterThan(topRight[0]);
    expect(topLeft[1]).toBeGreaterThan(bottomRight[1]);
  });

  it('reads a JPEG stored sideways whose EXIF says to turn it, with boxes in the upright image', async () => {
    const sideways = await renderer.render('sideways', {
      lines: [phrase],
      font: 'DejaVu-Sans',
      pointSize: 30,
      format: 'jpeg',
      rotate: 270,
    });
    const upright = await renderer.render('upright', { lines: [phrase], font: 'DejaVu-Sans', pointSize: 30, format: 'jpeg' });
    const result = await readText(withExifOrientation(sideways.bytes, 6), native.run, { dictionary, maxPixels: ocrTask.limits.maxPixels });
    const reference = await readText(upright.bytes, native.run, { dictionary, maxPixels: ocrTask.limits.maxPixels });
    expect([result.width, result.height]).toEqual([reference.width, reference.height]);
    expect(result.lines.map((line) => line.text)).toEqual([phrase]);
    result.lines[0]!.box.forEach(([x, y], corner) => {
      expect(Math.abs(x - reference.lines[0]!.box[corner]![0])).toBeLessThanOrEqual(3);
      expect(Math.abs(y - reference.lines[0]!.box[corner]![1])).toBeLessThanOrEqual(3);
    });
  });

  it('reports decode, preprocess and postprocess times', async () => {
    const stages = new Map<PipelineStage, number>();
    await read(pageCase.name, (stage, ms) => stages.set(stage, (stages.get(stage) ?? 0) + ms));
    expect([...stages.keys()].sort()).toEqual(['decode', 'postprocess', 'preprocess']);
    for (const ms of stages.values()) expect(ms).toBeGreaterThanOrEqual(0);
  });

  describe('agreement with @gutenye/ocr-node', () => {
    let reference: Awaited<ReturnType<typeof Ocr.create>>;
    beforeAll(async () => {
      reference = await Ocr.create();
    }, 60_000);

    // The reference has no direction classifier, so upside-down lines are not compared.
    it.each([...singleLines, pageCase])('reads every line of $name the reference reads as printed', async ({ name }) => {
      const ours = (await read(name)).lines.map((line) => line.text);
      const theirs = ((await reference.detect(images.get(name)!.path)) as { text: string }[]).map((line) => line.text);
      const printed = [...singleLines, pageCase].find((c) => c.name === name)!.options.lines;
      const readByThem = printed.filter((line) => theirs.includes(line));
      expect(readByThem.filter((line) => !ours.includes(line))).toEqual([]);
    });
  });
});
