// The input each carried model's first inference is measured on: what the model really gets.
// OCR models get the tensors the OCR pipeline (models/tasks/ocr/) makes from a rendered text image,
// captured as it runs (onnxruntime-node answers, so det's boxes lead to real cls and rec crops);
// any other model gets an input built from its manifest: `inputs[].warmup` where given, otherwise
// batch 1 and a realistic side for each dynamic axis.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findVersion } from '../../../models/manifest.ts';
import { ocrTask } from '../../../models/tasks/catalog.ts';
import { parseDictionary, readText } from '../../../models/tasks/ocr/index.ts';
import type { NamedTensors } from '../../../models/tasks/run-model.ts';
import { loadModelFolders } from '../../../models/catalog-fs.ts';
import { datatypeOf } from '../../../protocol/datatypes.ts';
import { createSession, sessionRunner } from '../quantize/ort-run.ts';
import type { CarriedModel } from './edge-models.ts';

/** Two printed lines rendered by ImageMagick (test/fixtures/README.md): a small image the edge reads whole. */
export const ocrSampleImage = 'test/fixtures/invoice.png';

// 224 px: the usual side of an image model's input, and a multiple of 32 (PaddleOCR det's stride). A
// model whose sides mean something else says so with `inputs[].warmup`.
const realisticSide = 224;

/** An input from the manifest alone; warmup values fill it where given, zeros otherwise. */
export function manifestInput(model: CarriedModel): NamedTensors {
  return Object.fromEntries(
    model.manifest.inputs.map((spec) => {
      const shape =
        spec.warmup?.shape ?? spec.shape.map((size, axis) => (size !== -1 ? size : axis === spec.batchDimension ? 1 : realisticSide));
      const elements = shape.reduce((total, size) => total * size, 1);
      const type = datatypeOf(spec.datatype);
      const data = type.allocate(elements);
      if (spec.warmup?.value !== undefined) for (let i = 0; i < elements; i++) type.store(data, i, spec.warmup.value);
      return [spec.name, { datatype: spec.datatype, shape, data }];
    }),
  );
}

/**
 * The first tensors `readText` feeds each OCR model for `ocrSampleImage`, as the edge runs it (one
 * line per recogniser run). Every OCR model runs natively here, at the version the edge carries where
 * it carries one.
 */
export async function ocrPipelineInputs(repoRoot: string): Promise<Map<string, NamedTensors>> {
  const folders = new Map((await loadModelFolders(join(repoRoot, 'models'))).map((f) => [f.manifest.name, f]));
  const sessions = new Map<string, Awaited<ReturnType<typeof createSession>>>();
  const outputs = new Map<string, string[]>();
  let dictionary: ReturnType<typeof parseDictionary> | undefined;
  for (const name of ocrTask.models) {
    const folder = folders.get(name);
    const version = folder && findVersion(folder.manifest, undefined, 'edge');
    if (!folder || !version) throw new Error(`the OCR task runs '${name}', which has no servable version in models/`);
    sessions.set(name, await createSession(new Uint8Array(await readFile(join(folder.dir, version.file)))));
    outputs.set(
      name,
      folder.manifest.outputs.map((o) => o.name),
    );
    if (version.labels) dictionary = parseDictionary(await readFile(join(folder.dir, version.labels.file), 'utf8'));
  }
  if (!dictionary) throw new Error(`none of the OCR models (${ocrTask.models.join(', ')}) has labels`);
  const first = new Map<string, NamedTensors>();
  const run = sessionRunner(sessions, outputs);
  try {
    await readText(
      new Uint8Array(await readFile(join(repoRoot, ocrSampleImage))),
      async (model, feeds) => {
        if (!first.has(model)) first.set(model, feeds);
        return run(model, feeds);
      },
      { dictionary, maxPixels: ocrTask.limits.maxPixels, recBatchLines: 1 },
    );
  } finally {
    for (const session of sessions.values()) await session.release();
  }
  const missing = ocrTask.models.filter((m) => !first.has(m));
  if (missing.length) throw new Error(`the OCR pipeline ran no ${missing.join(', ')} on ${ocrSampleImage}: it found no text line`);
  return first;
}

/** Each carried model's first input, by model name. */
export async function firstInputs(models: readonly CarriedModel[], repoRoot: string): Promise<Map<string, NamedTensors>> {
  const needsOcr = models.some((m) => (ocrTask.models as readonly string[]).includes(m.manifest.name));
  const ocr = needsOcr ? await ocrPipelineInputs(repoRoot) : new Map<string, NamedTensors>();
  return new Map(models.map((m) => [m.manifest.name, ocr.get(m.manifest.name) ?? manifestInput(m)]));
}
