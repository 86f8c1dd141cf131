// What every tier does around a task pipeline, written once: the RunModel it hands the pipeline
// (recording which version of each model answered and how long each run took) and the answer's shape.

import type { Tensor } from '../../protocol/tensor-codec.ts';
import { type DecodedInferRequest, requestFromFeeds } from '../infer-request.ts';
import type { Manifest, ModelVersion } from '../manifest.ts';
import type { NamedTensors, RunModel, ScanModel, ScanRequest } from './run-model.ts';
import type { TaskTimings } from './timings.ts';

export interface TierModel {
  manifest: Manifest;
  version: ModelVersion;
}

/**
 * A RunModel over a tier's own way of running a model it resolved by name (a WASM session at the
 * edge, a batcher on the backend). `models` fills with the version of each model that ran; `timings`
 * with each model's time, calls in flight together counted once (TaskTimings.modelCall).
 */
export function tierRunModel<M extends TierModel>(
  resolve: (name: string) => M,
  runRequest: (model: M, request: DecodedInferRequest) => Promise<Tensor[]>,
  timings: TaskTimings,
): { run: RunModel; models: Record<string, string> } {
  const models: Record<string, string> = {};
  const run: RunModel = async (name, feeds) => {
    const model = resolve(name);
    models[name] = model.version.version;
    const answered = timings.modelCall(name);
    let outputs: Tensor[];
    try {
      outputs = await runRequest(model, requestFromFeeds(model.manifest, feeds));
    } finally {
      answered();
    }
    const named: NamedTensors = {};
    for (const { name: output, ...tensor } of outputs) named[output] = tensor;
    return named;
  };
  return { run, models };
}

/**
 * A ScanModel over a tier's own way of scanning a model where its session is (the backend's session
 * thread), recording into `models` and `timings` as `tierRunModel`'s run does.
 */
export function tierScanModel<M extends TierModel>(
  resolve: (name: string) => M,
  runScan: (model: M, request: ScanRequest) => Promise<Float32Array>,
  timings: TaskTimings,
  models: Record<string, string>,
): ScanModel {
  return async (name, request) => {
    const model = resolve(name);
    models[name] = model.version.version;
    const answered = timings.modelCall(name);
    try {
      return await runScan(model, request);
    } finally {
      answered();
    }
  };
}

/** A task's answer: one result with `models`, or, for a batch, `results` (one per file, in order) and `models`. */
export function taskAnswer(batch: boolean, results: readonly unknown[], models: Record<string, string>): unknown {
  return batch ? { results, models } : { ...(results[0] as object), models };
}
