// Runs a task pipeline (models/tasks/) on this backend: each model run goes through that model's
// dynamic batcher, so the rows of concurrent task requests share model runs as /v2 requests do.

import type { z } from 'zod';
import type { Dictionary } from '../models/tasks/ocr/dictionary.ts';
import { backendModelCallsInFlight } from '../models/tasks/ocr/in-flight.ts';
import type { TaskTimings } from '../models/tasks/timings.ts';
import { taskAnswer, tierRunModel, tierScanModel } from '../models/tasks/tier-run.ts';
import type { TaskRequest } from '../models/tasks/task-request.ts';
import type { TaskDefinition } from '../models/tasks/tasks.ts';
import type { InferenceService } from './inference.ts';
import type { BackendModel, ModelRegistry } from './registry.ts';

const cpuRecBatchLines = 3;

export interface BackendTasksDeps {
  registry: ModelRegistry;
  inference: InferenceService;
  /** Where a model runs once loaded: OCR batches its recogniser's lines on a GPU, not on a CPU. */
  provider: (model: BackendModel) => string | undefined;
  /** The recogniser's dictionary for a served model version (read with its weights at start-up). */
  dictionary: (model: BackendModel) => Dictionary | undefined;
}

export class BackendTasks {
  readonly #deps: BackendTasksDeps;

  constructor(deps: BackendTasksDeps) {
    this.#deps = deps;
  }

  /** The answer's JSON body: one result and `models`, or `results` and `models` for a batch. */
  async run(
    definition: TaskDefinition<z.ZodType, unknown>,
    request: TaskRequest<unknown>,
    timings: TaskTimings,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const { registry, inference } = this.#deps;
    const { run, models } = tierRunModel(
      (name) => registry.resolve(name),
      // A pipeline's calls come one after another (its next waits on this one's answer), so one waits
      // for no company: it joins whatever is queued when the model is free, and /v2 callers still batch.
      (model, modelRequest) => inference.infer(model, modelRequest, { waitForCompany: false }),
      timings,
    );
    // VAD's frames run where the session is, one message per recording (gpu-backend/session-worker.ts).
    const scan = tierScanModel(
      (name) => registry.resolve(name),
      (model, scanRequest) => inference.scan(model, scanRequest, signal),
      timings,
      models,
    );
    const rec = definition.models.at(-1)!;
    const dictionary = definition.name === 'ocr' ? this.#deps.dictionary(registry.resolve(rec)) : undefined;
    // On the CPU provider, three lines per recogniser run: with each line at its own width
    // (recMinWidth 0) a batch of width-sorted lines pads little, and fewer runs beat one line per run
    // on multi-line images (bench:tasks' printed sets, backend ms per image, two runs each: table
    // 150/151 at 3, 156/161 at 6, 162/194 at 1; dense 122/136, 159/134, 140/173), reading the same text.
    const recBatchLines = this.#deps.provider(registry.resolve(rec)) === 'cuda' ? undefined : cpuRecBatchLines;
    // The files of a batch run side by side: their model runs meet in the batchers.
    const results = await Promise.all(
      request.files.map((file) =>
        definition.run(file, request.options, {
          run,
          scan,
          dictionary,
          timer: timings.timer,
          recBatchLines,
          modelCallsInFlight: backendModelCallsInFlight,
        }),
      ),
    );
    return taskAnswer(request.batch, results, models);
  }
}
