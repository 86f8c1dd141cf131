// Held evaluation sets: real inputs the quantizer never calibrated on (test/fixtures/evaluation/, kept
// apart from test/fixtures/calibration/), each read by a task pipeline. Hashed as calibration sets are.

import { calibrationFiles, calibrationHash } from '../quantize/calibration.ts';
import { printedSetDir } from './printed-set.ts';

export interface EvaluationSet {
  name: string;
  /** Folder of the input files, relative to the repository root. */
  dir: string;
  task: 'vad' | 'ocr';
  /** The models the task pipeline runs: the one evaluated is swapped, the others stay float32. */
  models: readonly string[];
  /** Which files of the folder are inputs; the others (the printed texts) are read by name. */
  inputs: RegExp;
  /** OCR: a file mapping each image's name to the lines printed in it, in reading order. */
  truth?: string;
}

export const evaluationSets: readonly EvaluationSet[] = [
  { name: 'speech-eval-3', dir: 'test/fixtures/evaluation/speech', task: 'vad', models: ['silero-vad'], inputs: /\.wav$/ },
  {
    // Made by render-ocr-sets.ts: 39 images, 90 lines (see printed-set.ts).
    name: 'ocr-printed-39',
    dir: printedSetDir,
    task: 'ocr',
    models: ['paddleocr-det', 'paddleocr-cls', 'paddleocr-rec'],
    inputs: /\.(png|jpg)$/,
    truth: 'truth.json',
  },
];

export function evaluationSetFor(model: string): EvaluationSet {
  const set = evaluationSets.find((s) => s.models.includes(model));
  if (!set)
    throw new Error(
      `no evaluation set runs model '${model}'; sets: ${evaluationSets.map((s) => `${s.name} (${s.models.join(', ')})`).join('; ')}`,
    );
  return set;
}

/** The set's input files, sorted by name. */
export async function evaluationFiles(set: EvaluationSet, repoRoot: string): Promise<string[]> {
  return (await calibrationFiles(set, repoRoot)).filter((path) => set.inputs.test(path));
}

/** Over every file of the folder, the printed texts included: they are part of what the figures mean. */
export const evaluationHash = (set: EvaluationSet, repoRoot: string) => calibrationHash(set, repoRoot);
