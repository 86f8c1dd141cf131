// Where an inference request goes once decoded: the model's dynamic batcher, which runs it on the
// model's onnxruntime session. One batcher per served model version.

import { datatypeOf } from '../protocol/datatypes.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import type { ScanRequest, TaskTensor } from '../models/tasks/run-model.ts';
import type { DecodedInferRequest } from '../models/infer-request.ts';
import { defaultBatching } from '../models/manifest.ts';
import { DynamicBatcher, type SubmitOptions } from './batcher.ts';
import type { BackendConfig } from './config.ts';
import type { BackendMetrics } from './metrics.ts';
import type { BackendModel } from './registry.ts';
import type { OnnxRuntime } from './runtime.ts';

export interface InferenceOptions {
  runtime: OnnxRuntime;
  metrics: BackendMetrics;
  batching: BackendConfig['batching'];
  requestTimeoutMs: number;
}

export class InferenceService {
  readonly #runtime: OnnxRuntime;
  readonly #requestTimeoutMs: number;
  readonly #batchers = new Map<string, DynamicBatcher>();

  constructor(models: readonly BackendModel[], options: InferenceOptions) {
    this.#runtime = options.runtime;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    for (const model of models) {
      const { manifest } = model;
      this.#batchers.set(
        model.key,
        new DynamicBatcher({
          model: manifest.name,
          inputs: manifest.inputs,
          outputs: manifest.outputs,
          maxBatch: Math.min(
            manifest.limits.maxBatch,
            options.batching.maxBatchSize ?? manifest.batching?.maxBatchSize ?? manifest.limits.maxBatch,
          ),
          maxQueueDelayMs: options.batching.maxQueueDelayMs ?? manifest.batching?.maxQueueDelayMs ?? defaultBatching.maxQueueDelayMs,
          maxQueueSize: options.batching.maxQueueSize,
          enabled: options.batching.enabled,
          run: (inputs, outputNames) => options.runtime.run(model, inputs, outputNames),
          observer: options.metrics.batchObserver(manifest.name),
        }),
      );
    }
  }

  /** Runs a request through its model's batcher; throws ModelUnavailable or Overloaded when it cannot. */
  infer(model: BackendModel, request: DecodedInferRequest, options: SubmitOptions = {}): Promise<Tensor[]> {
    this.#runtime.ensureReady(model);
    return this.#batchers.get(model.key)!.submit(request, this.#requestTimeoutMs, options);
  }

  /**
   * Runs a recurrent scan (a VAD recording's frames) on the model's session thread in one message,
   * past the batcher: one message per recording instead of one per frame (see session-worker.ts).
   * `signal` aborting (the caller hung up) stops it within a few ms, rejected with ClientGone.
   */
  async scan(model: BackendModel, request: ScanRequest, signal?: AbortSignal): Promise<Float32Array> {
    this.#runtime.ensureReady(model);
    const wire = (tensor: TaskTensor) => ({ ortType: datatypeOf(tensor.datatype).ortType, shape: tensor.shape, data: tensor.data });
    const [collected] = await this.#runtime.scan(
      model,
      {
        window: request.window,
        carry: {
          input: request.carry.input,
          output: request.carry.output,
          initial: { name: request.carry.input, ...wire(request.carry.initial) },
        },
        fixed: Object.entries(request.fixed).map(([name, tensor]) => ({ name, ...wire(tensor) })),
        collect: request.collect,
      },
      signal,
    );
    return collected!.data as Float32Array;
  }

  /** Resolves once every queued and running request has been answered. */
  async drain(): Promise<void> {
    await Promise.all([...this.#batchers.values()].map((batcher) => batcher.drain()));
  }
}
