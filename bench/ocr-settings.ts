// `node bench/ocr-settings.ts [--paddle] [--base key=value ...]`: how the OCR pipeline's geometry and
// preprocessing (models/tasks/ocr/settings.ts) change what it reads, on the printed-text evaluation
// sets, with the float32 models on onnxruntime-node. Prints, per setting and per set, the lines read
// exactly as printed, the lines read ignoring spaces, and the character error rate against the print.
//
// Starting from the pipeline's defaults (PaddleOCR's with --paddle; either changed by --base), it
// varies one setting at a time over the values listed below, and reads with PaddleOCR's settings too. The detector's map does not depend on the settings, so it is computed once per
// image; everything after it runs again for each setting.

import { join } from 'node:path';
import { loadModelFolders } from '../models/catalog-fs.ts';
import { findVersion } from '../models/manifest.ts';
import { ocrTask } from '../models/tasks/catalog.ts';
import { defaultOcrSettings, paddleOcrSettings, parseDictionary, readText, type OcrPipelineSettings } from '../models/tasks/ocr/index.ts';
import type { NamedTensors, RunModel } from '../models/tasks/run-model.ts';
import { readFile } from 'node:fs/promises';
import { printedFigures } from '../tools/models/evaluate/figures.ts';
import { printedImages, type PrintedImage } from '../tools/models/evaluate/printed-set.ts';
import { repoRoot } from '../test/support/edge-worker.ts';
import { nativeRunModel } from '../test/support/native-run-model.ts';
import { printTable } from './lib/stats.ts';

const values: { [K in keyof OcrPipelineSettings]: OcrPipelineSettings[K][] } & { recBatchLines: number[] } = {
  unclipRatio: [1.5, 2.0, 2.5, 3.0],
  unclipRatioAcross: [1.5, 2.0, 2.5],
  trimSpaces: [false, true],
  spaceWeight: [1, 3, 5, 8, 12],
  asciiPunctuation: [false, true],
  binaryThreshold: [0.2, 0.3],
  boxThreshold: [0.5, 0.6],
  flipThreshold: [0.9, 0.99, 1],
  recMinWidth: [0, 320],
  recPadding: ['zero', 'edge'],
  recResize: ['bilinear', 'area'],
  recBatchLines: [1, 6],
};
type Key = keyof typeof values;

function parseBase(args: string[]): OcrPipelineSettings & { recBatchLines: number } {
  const base: OcrPipelineSettings & { recBatchLines: number } = {
    ...(args.includes('--paddle') ? paddleOcrSettings : defaultOcrSettings),
    recBatchLines: 1,
  };
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--base') continue;
    const [key, value] = args[++i]!.split('=') as [Key, string];
    if (!(key in values)) throw new Error(`no setting '${key}'; settings: ${Object.keys(values).join(', ')}`);
    (base as unknown as Record<string, unknown>)[key] =
      typeof values[key][0] === 'number' ? Number(value) : typeof values[key][0] === 'boolean' ? value === 'true' : value;
  }
  return base;
}

/** The det model's output for each image, computed once: the settings measured act after it. */
function cachingDet(run: RunModel): { run: RunModel; image: (name: string) => void } {
  const cache = new Map<string, NamedTensors>();
  let current = '';
  return {
    image: (name) => {
      current = name;
    },
    run: async (model, feeds) => {
      if (model !== ocrTask.models[0]) return run(model, feeds);
      const cached = cache.get(current);
      if (cached) return cached;
      const outputs = await run(model, feeds);
      cache.set(current, outputs);
      return outputs;
    },
  };
}

const base = parseBase(process.argv.slice(2));
const rec = (await loadModelFolders(join(repoRoot, 'models'))).find((f) => f.manifest.name === ocrTask.models[2])!;
const dictionary = parseDictionary(await readFile(join(rec.dir, findVersion(rec.manifest, undefined)!.labels!.file), 'utf8'));
const images = await printedImages(repoRoot);
const sets = [...new Set(images.map((i) => i.set))];
const det = cachingDet(nativeRunModel().run);

async function score(settings: OcrPipelineSettings & { recBatchLines: number }) {
  const readings: { image: PrintedImage; read: string[] }[] = [];
  for (const image of images) {
    det.image(image.file);
    const { recBatchLines, ...pipeline } = settings;
    const result = await readText(image.bytes, det.run, { dictionary, maxPixels: ocrTask.limits.maxPixels, recBatchLines, pipeline });
    readings.push({ image, read: result.lines.map((l) => l.text) });
  }
  const figures = (of: typeof readings) => printedFigures(of.map((r) => ({ printed: r.image.printed, read: r.read })));
  return {
    all: figures(readings),
    bySet: Object.fromEntries(sets.map((s) => [s, figures(readings.filter((r) => r.image.set === s))])),
    readings,
  };
}

const cell = (f: ReturnType<typeof printedFigures>) =>
  `${f.exactAsPrinted}/${f.exactIgnoringSpaces}/${(100 * f.characterErrorRate).toFixed(1)}`;
const rows: string[][] = [];
const describe = (s: typeof base) =>
  Object.entries(s)
    .filter(([k, v]) => (base as unknown as Record<string, unknown>)[k] !== v)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || 'base';
const tried = new Set<string>();
let baseMisreads: string[] = [];
const variants: [string | undefined, typeof base][] = [
  ['PaddleOCR', { ...paddleOcrSettings, recBatchLines: 1 }],
  ...(Object.keys(values) as Key[]).flatMap((key) =>
    values[key].map((value): [undefined, typeof base] => [undefined, { ...base, [key]: value }]),
  ),
];
// biome-ignore lint/complexity/noUselessLoneBlockStatements: the sweep's own scope, beside the table it prints.
{
  for (const [label, settings] of variants) {
    const name = label ?? describe(settings);
    if (tried.has(name)) continue;
    tried.add(name);
    const started = performance.now();
    const { all, bySet, readings } = await score(settings);
    if (name === 'base')
      baseMisreads = readings.flatMap(({ image, read }) =>
        image.printed.filter((p) => !read.includes(p)).map((p) => `${image.file}: "${p}" → ${JSON.stringify(read)}`),
      );
    rows.push([name, cell(all), ...sets.map((s) => cell(bySet[s]!)), ((performance.now() - started) / 1000).toFixed(1)]);
    console.error(`${name}: ${cell(all)}`);
  }
}
const lineCounts = sets.map((s) => images.filter((i) => i.set === s).reduce((n, i) => n + i.printed.length, 0));
printTable(
  `OCR settings on the printed sets (float32, onnxruntime-node); base ${JSON.stringify(base)}. Each cell: lines exact as printed / exact ignoring spaces / CER % against the print`,
  ['setting', `all (${lineCounts.reduce((a, b) => a + b, 0)} lines)`, ...sets.map((s, i) => `${s} (${lineCounts[i]})`), 's'],
  rows,
);
console.log(`\nLines the base setting did not read as printed:\n${baseMisreads.join('\n')}`);
