// The OCR pipeline in the edge's runtime, in this process: onnxruntime-web's WASM build on one thread,
// as inside workerd, with the same session options as edge/wasm-runtime.ts. Gives bench/tasks.ts the
// stage split of a tier that cannot run OCR itself yet (det and rec are gpu-tier).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { datatypeFromOrt, datatypeOf } from '../../protocol/datatypes.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { findVersion } from '../../models/manifest.ts';
import { ocrTask } from '../../models/tasks/catalog.ts';
import { parseDictionary, readText } from '../../models/tasks/ocr/index.ts';
import type { NamedTensors, RunModel } from '../../models/tasks/run-model.ts';
import { parseServerTiming, TaskTimings } from '../../models/tasks/timings.ts';
import { repoRoot } from '../../test/support/edge-worker.ts';

/** Mean milliseconds per stage over `runs` runs of one image, after one warm-up run. */
export async function webPipelineTimings(image: Uint8Array, runs: number): Promise<{ stages: Record<string, number>; taskMs: number; modelMs: number }> {
  ort.env.wasm.numThreads = 1;
  const folders = await loadModelFolders(join(repoRoot, 'models'));
  const sessions = new Map<string, ort.InferenceSession>();
  for (const name of ocrTask.models) {
    const folder = folders.find((f) => f.manifest.name === name)!;
    const version = findVersion(folder.manifest, undefined)!;
    sessions.set(name, await ort.InferenceSession.create(readFileSync(join(folder.dir, version.file)), { graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false }));
  }
  const rec = folders.find((f) => f.manifest.name === ocrTask.models[2])!;
  const recVersion = findVersion(rec.manifest, undefined)!;
  const dictionary = parseDictionary(readFileSync(join(rec.dir, recVersion.labels!.file), 'utf8'));

  let timings = new TaskTimings();
  const run: RunModel = async (name, feeds) => {
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([input, t]) => [input, new ort.Tensor(datatypeOf(t.datatype).ortType, t.data, t.shape)]));
    const started = performance.now();
    const results = await sessions.get(name)!.run(ortFeeds);
    timings.addModel(name, performance.now() - started);
    const outputs: NamedTensors = {};
    for (const [output, value] of Object.entries(results)) outputs[output] = { datatype: datatypeFromOrt(value.type)!, shape: [...value.dims], data: value.data as NamedTensors[string]['data'] };
    return outputs;
  };
  const once = async () => {
    timings = new TaskTimings();
    const started = performance.now();
    await readText(image, run, { dictionary, maxPixels: ocrTask.limits.maxPixels, timer: timings.timer });
    return parseServerTiming(timings.serverTiming(performance.now() - started));
  };
  await once();
  const all: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) all.push(await once());
  const names = new Set(all.flatMap((t) => Object.keys(t)));
  const stages = Object.fromEntries([...names].map((name) => [name, all.reduce((sum, t) => sum + (t[name] ?? 0), 0) / all.length]));
  const modelMs = Object.entries(stages).filter(([name]) => name.startsWith('model-')).reduce((sum, [, ms]) => sum + ms, 0);
  return { stages, taskMs: stages.task!, modelMs };
}
