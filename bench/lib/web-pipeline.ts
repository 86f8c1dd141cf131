// The OCR pipeline in the edge's runtime, in this process (onnxruntime-web WASM, one thread, see
// test/support/web-run-model.ts): the stage split of the edge's runtime on a page the edge itself forwards
// (it reads only images under the OCR task's edgeMaxPixels).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { findVersion } from '../../models/manifest.ts';
import { ocrTask } from '../../models/tasks/catalog.ts';
import { parseDictionary, readText } from '../../models/tasks/ocr/index.ts';
import { parseServerTiming, TaskTimings } from '../../models/tasks/timings.ts';
import { repoRoot } from '../../test/support/edge-worker.ts';
import { webRunModel } from '../../test/support/web-run-model.ts';

/** The Server-Timing-style split of `runs` runs of one image (milliseconds by stage), after one warm-up run. */
export async function webPipelineTimings(image: Uint8Array, runs: number): Promise<Record<string, number>[]> {
  const rec = (await loadModelFolders(join(repoRoot, 'models'))).find((f) => f.manifest.name === ocrTask.models[2])!;
  const labels = findVersion(rec.manifest, undefined)!.labels!;
  const dictionary = parseDictionary(readFileSync(join(rec.dir, labels.file), 'utf8'));
  const web = webRunModel();
  const once = async () => {
    const timings = new TaskTimings();
    web.onModelRun = (model, ms) => timings.addModel(model, ms);
    const started = performance.now();
    await readText(image, web.run, { dictionary, maxPixels: ocrTask.limits.maxPixels, timer: timings.timer });
    return parseServerTiming(timings.serverTiming(performance.now() - started));
  };
  await once();
  const all: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) all.push(await once());
  return all;
}
