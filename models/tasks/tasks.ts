// The two task APIs as data both tiers drive the same way: which raw media types and options each
// takes, how a file's header is checked and weighed before any heavy work, and how it runs through
// its pipeline with a tier's RunModel.

import type { z } from 'zod';
import { ModelUnavailable } from '../../protocol/errors.ts';
import { audioContentTypes, imageContentTypes, OcrOptions, type OcrResult, VadOptions, type VadResult } from '../../protocol/tasks.ts';
import { countUnits } from '../units.ts';
import { ocrTask, vadTask } from './catalog.ts';
import type { Dictionary } from './ocr/dictionary.ts';
import { inspectImage, readText } from './ocr/index.ts';
import type { RunModel, ScanModel, StageTimer } from './run-model.ts';
import type { OcrTaskManifest, VadTaskManifest } from './task-manifest.ts';
import type { TaskLimits } from './task-request.ts';
import { detectSpeech, inspectWav } from './vad/index.ts';

export type TaskName = 'vad' | 'ocr';

/** What a file costs, read from its header: milliseconds of audio, or pixels. */
export interface Work {
  unit: 'audio_ms' | 'pixels';
  amount: number;
}

/** What a pipeline gets from the tier running it, besides a way to run models. */
export interface TaskContext {
  run: RunModel;
  /** The recogniser's character set; OCR only (models/tasks/ocr/dictionary.ts). */
  dictionary?: Dictionary;
  /**
   * OCR: lines per recogniser run. PaddleOCR's 6 (padded to the widest) suits a GPU; on a CPU, WASM
   * included, one line per run wastes no work on padding and was faster (models/tasks/ocr/recognise.ts).
   */
  recBatchLines?: number;
  /** OCR: model calls kept in flight at once; 1 where one thread runs both the pipeline and the models (models/tasks/ocr/in-flight.ts). */
  modelCallsInFlight?: number;
  /** VAD: runs a recording's frames in one call where the tier can (models/tasks/run-model.ts). */
  scan?: ScanModel | undefined;
  timer?: StageTimer;
}

export interface TaskDefinition<S extends z.ZodType, R> {
  name: TaskName;
  manifest: VadTaskManifest | OcrTaskManifest;
  /** The registered models the pipeline runs, in order. */
  models: readonly string[];
  limits: TaskLimits;
  rawTypes: readonly string[];
  options: S;
  /** Checks a file's header against the task's limits (4xx before heavy work) and weighs it. */
  inspect(file: Uint8Array): Work;
  /** Whether the edge may run a file of this weight itself, size-wise (its models permitting). */
  fitsEdge(work: Work): boolean;
  run(file: Uint8Array, options: z.infer<S>, context: TaskContext): Promise<R>;
}

export const vad: TaskDefinition<typeof VadOptions, VadResult> = {
  name: 'vad',
  manifest: vadTask,
  models: vadTask.models,
  limits: vadTask.limits,
  rawTypes: audioContentTypes,
  options: VadOptions,
  inspect(file) {
    const info = inspectWav(file, vadTask.limits.maxAudioSeconds);
    return { unit: 'audio_ms', amount: info.durationMs };
  },
  fitsEdge: (work) => work.amount <= (vadTask.routing?.edgeMaxAudioSeconds ?? Infinity) * 1000,
  run: (file, options, context) => detectSpeech(file, options, context.run, { timer: context.timer, scan: context.scan }),
};

export const ocr: TaskDefinition<typeof OcrOptions, OcrResult> = {
  name: 'ocr',
  manifest: ocrTask,
  models: ocrTask.models,
  limits: ocrTask.limits,
  rawTypes: imageContentTypes,
  options: OcrOptions,
  inspect(file) {
    const { width, height } = inspectImage(file, ocrTask.limits.maxPixels);
    return { unit: 'pixels', amount: width * height };
  },
  fitsEdge: (work) => work.amount <= (ocrTask.routing?.edgeMaxPixels ?? 0),
  async run(file, _options, context) {
    if (!context.dictionary)
      throw new ModelUnavailable(`the recogniser's dictionary is unavailable (see the server log), so ${ocrTask.models[2]} cannot be read`);
    return readText(file, context.run, {
      dictionary: context.dictionary,
      maxPixels: ocrTask.limits.maxPixels,
      timer: context.timer,
      recBatchLines: context.recBatchLines,
      modelCallsInFlight: context.modelCallsInFlight,
    });
  },
};

export const tasks = { vad, ocr } as const;

/**
 * A task request's units (models/units.ts): one per started `workPerUnit` of each file, at least one
 * per file; for a run on the GPU backend with a trusted run time, its session units when more.
 */
export function taskUnits(task: TaskDefinition<z.ZodType, unknown>, works: readonly Work[], gpuSessionMs?: number): number {
  return countUnits(
    task.manifest.units,
    works.map((work) => work.amount),
    gpuSessionMs,
  );
}
