// The one thing a task pipeline needs from a tier: a way to run a model. Pipelines in models/tasks/
// know no tier; the edge passes onnxruntime-web sessions, the backend its batchers, tests
// onnxruntime-node directly, and each adapter decides which version of the model answers.

import type { Datatype, TensorData } from '../../protocol/datatypes.ts';

export interface TaskTensor {
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** Named tensors, as a model takes them (feeds) and answers them (outputs). */
export type NamedTensors = Record<string, TaskTensor>;

/** Runs `model` (a registered model's name) on `feeds` and resolves every output it declares. */
export type RunModel = (model: string, feeds: NamedTensors) => Promise<NamedTensors>;

/** The stages a pipeline's wall time is split into, outside the model runs themselves. */
export type PipelineStage = 'decode' | 'preprocess' | 'postprocess';

/**
 * Where a pipeline reports how long each stage took (bench/tasks.ts adds them up); the time inside
 * `run` is measured by whoever supplies `run`. Optional: pipelines run the same without one.
 */
export type StageTimer = (stage: PipelineStage, ms: number) => void;

/** Runs `work`, reporting its wall time as `stage`. */
export async function timed<T>(timer: StageTimer | undefined, stage: PipelineStage, work: () => T | Promise<T>): Promise<T> {
  if (!timer) return work();
  const startedMs = performance.now();
  try {
    return await work();
  } finally {
    timer(stage, performance.now() - startedMs);
  }
}

/**
 * A recurrent model over a sequence, as one call: step i feeds `window.name` the slice
 * [i × hop, i × hop + width) of `window.data` (shape [1, width]), `carry.input` the previous step's
 * `carry.output` (`carry.initial` at step 0) and the `fixed` tensors, and keeps `collect`'s data.
 */
export interface ScanRequest {
  window: { name: string; data: Float32Array; width: number; hop: number; steps: number };
  carry: { input: string; output: string; initial: TaskTensor };
  fixed: NamedTensors;
  collect: string;
}

/** Runs a ScanRequest on `model`; resolves `collect` of every step, concatenated, as a Float32Array. */
export type ScanModel = (model: string, request: ScanRequest) => Promise<Float32Array>;
