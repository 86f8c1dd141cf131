// Runs a task request (`/v1/vad`, `/v1/ocr`) where it belongs: here, when every model its pipeline
// needs runs at the edge and every file is within the edge's size threshold, or on the GPU backend,
// which gets the whole request in one signed hop (never model by model, which would cross the network
// once per model run).

import { BackendUnavailable } from '../protocol/errors.ts';
import type { TaskTimings } from '../models/tasks/timings.ts';
import { taskAnswer, tierRunModel } from '../models/tasks/tier-run.ts';
import type { TaskRequest } from '../models/tasks/task-request.ts';
import type { TaskDefinition, Work } from '../models/tasks/tasks.ts';
import type { Dictionary } from '../models/tasks/ocr/dictionary.ts';
import type { z } from 'zod';
import type { BackendClient } from './backend/client.ts';
import type { RequestTrace, ServedTier } from './inference.ts';
import type { ModelRegistry } from './registry.ts';
import type { InferenceRuntime } from './wasm-runtime.ts';

export interface EdgeTasksDeps {
  registry: ModelRegistry;
  runtime: InferenceRuntime;
  backend: BackendClient | undefined;
  /** The recogniser's dictionary for a model version, when the edge carries it. */
  dictionary: (model: string, version: string) => Promise<Dictionary | undefined>;
  defaultBackendTimeoutMs: number;
}

/** A task request as received: not parsed yet. */
export interface ReceivedTask {
  definition: TaskDefinition<z.ZodType, unknown>;
  /** The bytes, media type and query string as the caller sent them, for forwarding unchanged. */
  original: { body: Uint8Array; contentType: string; search: string };
}

/** A prepared task request: its files read and weighed, its options parsed. */
export interface PreparedTask extends ReceivedTask {
  request: TaskRequest<unknown>;
  works: Work[];
}

export interface TaskOutcome {
  /** The answer's JSON body: one result and `models`, or `results` and `models` for a batch. */
  body: unknown;
  tier: ServedTier;
  /** What it ran on: `wasm` here, the backend's execution provider there. */
  provider: string;
  /** The backend's Server-Timing, for a forwarded task. */
  serverTiming?: string | undefined;
  /** The GPU backend's signed run time, which its units may be charged by (models/units.ts). */
  gpuRunMs?: number | undefined;
}

export class EdgeTasks {
  readonly #deps: EdgeTasksDeps;

  constructor(deps: EdgeTasksDeps) {
    this.#deps = deps;
  }

  /** True when every model of the task has its weights in this Worker and every file is small enough. */
  runsHere(task: PreparedTask): boolean {
    const { registry } = this.#deps;
    return (
      task.definition.models.every((name) => registry.carried(name) !== undefined) &&
      task.works.every((work) => task.definition.fitsEdge(work))
    );
  }

  async run(task: PreparedTask, trace: RequestTrace, timings: TaskTimings): Promise<TaskOutcome> {
    if (this.runsHere(task)) return { body: await this.#runHere(task, timings), tier: 'edge', provider: 'wasm' };
    const { backend } = this.#deps;
    const { definition, original } = task;
    if (!backend)
      throw new BackendUnavailable(`this ${definition.name} request runs on the GPU backend, and none is configured (BACKEND_URL)`, 60);
    const { body, serverTiming, runMs, provider } = await backend.task({
      task: definition.name,
      ...original,
      timeoutMs: this.#timeoutMs(definition),
      requestId: trace.requestId,
      traceparent: trace.traceparent,
    });
    return { body, tier: 'gpu', serverTiming, gpuRunMs: runMs, provider: provider ?? 'unknown' };
  }

  /** The slowest of the pipeline's models sets how long the backend may take (cold starts included). */
  #timeoutMs(definition: TaskDefinition<z.ZodType, unknown>): number {
    const timeouts = definition.models.map(
      (name) => this.#deps.registry.manifests.get(name)?.routing?.backendTimeoutMs ?? this.#deps.defaultBackendTimeoutMs,
    );
    return Math.max(...timeouts);
  }

  async #runHere(task: PreparedTask, timings: TaskTimings): Promise<unknown> {
    const { registry, runtime } = this.#deps;
    const { run, models } = tierRunModel(
      (name) => registry.carried(name)!,
      (model, modelRequest) => runtime.run(model, modelRequest.inputs, modelRequest.outputNames),
      timings,
    );
    const { definition, request } = task;
    const rec = definition.models.at(-1)!;
    const dictionary = definition.name === 'ocr' ? await this.#deps.dictionary(rec, registry.carried(rec)!.version.version) : undefined;
    const results = [];
    // One file after another: a Worker runs one WebAssembly thread, so files in parallel would only interleave.
    for (const file of request.files)
      results.push(await definition.run(file, request.options, { run, dictionary, timer: timings.timer, recBatchLines: 1 }));
    return taskAnswer(request.batch, results, models);
  }
}
