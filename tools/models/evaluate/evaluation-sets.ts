// Held evaluation sets: real inputs the quantizer never calibrated on (test/fixtures/evaluation/, kept
// apart from test/fixtures/calibration/), each read by a task pipeline. Hashed as calibration sets are.

import { calibrationFiles, calibrationHash } from '../quantize/calibration.ts';

export interface EvaluationSet {
  name: string;
  /** Folder of the input files, relative to the repository root. */
  dir: string;
  task: 'vad' | 'ocr';
  /** The models the task pipeline runs: the one evaluated is swapped, the others stay float32. */
  models: readonly string[];
}

export const evaluationSets: readonly EvaluationSet[] = [
  { name: 'speech-eval-3', dir: 'test/fixtures/evaluation/speech', task: 'vad', models: ['silero-vad'] },
  { name: 'ocr-eval-5', dir: 'test/fixtures/evaluation/ocr', task: 'ocr', models: ['paddleocr-det', 'paddleocr-cls', 'paddleocr-rec'] },
];

export function evaluationSetFor(model: string): EvaluationSet {
  const set = evaluationSets.find((s) => s.models.includes(model));
  if (!set) throw new Error(`no evaluation set runs model '${model}'; sets: ${evaluationSets.map((s) => `${s.name} (${s.models.join(', ')})`).join('; ')}`);
  return set;
}

export const evaluationFiles = (set: EvaluationSet, repoRoot: string) => calibrationFiles(set, repoRoot);
export const evaluationHash = (set: EvaluationSet, repoRoot: string) => calibrationHash(set, repoRoot);
