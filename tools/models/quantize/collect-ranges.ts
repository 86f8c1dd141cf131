// Activation ranges measured on a calibration set: the float model runs inside the set's own task
// pipeline with the tensors to quantize exposed as extra outputs, and each one's min and max is kept.

import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { calibrationFiles, type CalibrationSet } from './calibration.ts';
import { exposeTensors } from './expose.ts';
import { encodeModel, type Model } from './onnx-io.ts';
import { createSession, sessionRunner } from './ort-run.ts';

export interface CollectOptions {
  repoRoot: string;
  /** model name → float32 file of every model the set's pipeline runs. */
  floatFiles: ReadonlyMap<string, string>;
  /** model name → its declared outputs (what the pipeline reads). */
  declaredOutputs: ReadonlyMap<string, readonly string[]>;
  log: (line: string) => void;
}

export async function collectRanges(
  target: string,
  prepared: Model,
  tensors: ReadonlySet<string>,
  set: CalibrationSet,
  options: CollectOptions,
): Promise<Map<string, [number, number]>> {
  const { model: instrumented, outputs } = exposeTensors(prepared, tensors);
  const sessions = new Map<string, ort.InferenceSession>();
  for (const name of set.models) {
    const file = options.floatFiles.get(name);
    if (!file) throw new Error(`calibration set '${set.name}' runs '${name}', whose float32 file is unknown`);
    sessions.set(name, await createSession(name === target ? encodeModel(instrumented) : new Uint8Array(await readFile(file))));
  }
  const ranges = new Map<string, [number, number]>();
  const observe = (model: string, result: ort.InferenceSession.ReturnType) => {
    if (model !== target) return;
    for (const [tensor, output] of outputs) {
      const data = result[output]?.data as Float32Array | undefined;
      if (!data || data.length === 0) continue; // the branch of an If not taken on this input
      let [lo, hi] = ranges.get(tensor) ?? [Infinity, -Infinity];
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      ranges.set(tensor, [lo, hi]);
    }
  };
  const run = sessionRunner(sessions, options.declaredOutputs, observe);
  const files = await calibrationFiles(set, options.repoRoot);
  for (const [i, path] of files.entries()) {
    options.log(`  calibrating ${target} on ${set.name}: ${i + 1}/${files.length} ${path.slice(path.lastIndexOf('/') + 1)}`);
    await set.drive(new Uint8Array(await readFile(path)), run, options.repoRoot);
  }
  for (const session of sessions.values()) await session.release();
  return ranges;
}
