// The inputs a model really gets: one file of its evaluation set driven through the task pipeline with
// every model in float32, and each feed handed to the tuned model kept. Timing these, not zeros or
// random tensors, measures the shapes (line widths, frame counts) the service will see.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ModelFolder } from '../../../models/catalog-fs.ts';
import { parseDictionary, readText } from '../../../models/tasks/ocr/index.ts';
import type { NamedTensors } from '../../../models/tasks/run-model.ts';
import { detectSpeech } from '../../../models/tasks/vad/index.ts';
import { evaluationFiles, evaluationSetFor } from '../evaluate/evaluation-sets.ts';
import { floatVersionOf, readVersionBytes } from '../evaluate/command.ts';
import { createSession, sessionRunner } from '../quantize/ort-run.ts';

/** Every feed `model` received while its task read `file` (a name in its evaluation set), in order. */
export async function captureTaskInputs(
  folders: readonly ModelFolder[],
  model: string,
  repoRoot: string,
  file?: string,
): Promise<NamedTensors[]> {
  const set = evaluationSetFor(model);
  const files = await evaluationFiles(set, repoRoot);
  const path = file ? files.find((f) => f.endsWith(`/${file}`)) : files[0];
  if (!path) throw new Error(`evaluation set '${set.name}' has no file '${file}'`);
  const sessions = new Map<string, ort.InferenceSession>();
  const declaredOutputs = new Map<string, string[]>();
  let dictionary: ReturnType<typeof parseDictionary> | undefined;
  for (const name of set.models) {
    const folder = folders.find((f) => f.manifest.name === name);
    if (!folder) throw new Error(`evaluation set '${set.name}' runs '${name}', which is not registered`);
    const version = floatVersionOf(folder);
    sessions.set(name, await createSession(await readVersionBytes(folder, version)));
    declaredOutputs.set(
      name,
      folder.manifest.outputs.map((o) => o.name),
    );
    if (version.labels) dictionary = parseDictionary(await readFile(join(folder.dir, version.labels.file), 'utf8'));
  }
  const captured: NamedTensors[] = [];
  const inner = sessionRunner(sessions, declaredOutputs);
  // Copies: the pipeline passes views into buffers it reuses (silero's framing).
  const run: typeof inner = (name, feeds) => {
    if (name === model)
      captured.push(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { ...t, data: t.data.slice() as typeof t.data }])));
    return inner(name, feeds);
  };
  try {
    const bytes = new Uint8Array(await readFile(path));
    if (set.task === 'vad') await detectSpeech(bytes, {}, run);
    // One line per recogniser run, as both tiers run rec on a CPU (edge/tasks.ts, gpu-backend/tasks.ts):
    // a batch of lines padded to the widest is another workload than the one served.
    else await readText(bytes, run, { dictionary: dictionary!, maxPixels: 25_000_000, recBatchLines: 1 });
  } finally {
    for (const session of sessions.values()) await session.release();
  }
  if (captured.length === 0) throw new Error(`${path} never ran '${model}' through its task`);
  return captured;
}
