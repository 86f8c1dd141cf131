// Runs a decoded infer request where it belongs: here in WebAssembly, or on the GPU backend in one
// signed hop. When the backend cannot answer and the model can run here, the edge stands in and says
// so (`edge-fallback`); otherwise the caller gets 503 with Retry-After.

import { BackendUnavailable } from '../protocol/errors.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import { type DecodedInferRequest, inputElements } from '../models/infer-request.ts';
import { servedBy } from '../models/manifest.ts';
import type { BackendClient } from './backend/client.ts';
import type { EdgeModel } from './registry.ts';
import { placeRequest } from './routing.ts';
import type { InferenceRuntime } from './wasm-runtime.ts';

export type ServedTier = 'edge' | 'gpu' | 'edge-fallback';

export interface InferenceOutcome {
  outputs: Tensor[];
  modelVersion: string;
  tier: ServedTier;
  /** The GPU backend's signed run time, which its units may be charged by (models/units.ts). */
  gpuRunMs?: number | undefined;
  /** What it ran on: `wasm` here, the backend's execution provider there (`unknown` if it did not say). */
  provider: string;
}

export interface RequestTrace {
  requestId: string;
  traceparent: string | undefined;
}

export interface EdgeInferenceDeps {
  runtime: InferenceRuntime;
  /** Undefined when no backend is configured (BACKEND_URL unset). */
  backend: BackendClient | undefined;
  log: (line: string) => void;
}

export class EdgeInference {
  readonly #deps: EdgeInferenceDeps;

  constructor(deps: EdgeInferenceDeps) {
    this.#deps = deps;
  }

  /** `id` is the caller's infer request id, echoed by the backend as by the edge. */
  async infer(model: EdgeModel, request: DecodedInferRequest, trace: RequestTrace, id: string | undefined): Promise<InferenceOutcome> {
    if (this.#runsHere(model) && placeRequest(model.manifest, inputElements(request)) === 'edge')
      return this.#runHere(model, request, 'edge');

    const { backend, log } = this.#deps;
    try {
      if (!backend)
        throw new BackendUnavailable(`model '${model.manifest.name}' runs on the GPU backend, and none is configured (BACKEND_URL)`, 60);
      const forwarded = await backend.infer({
        manifest: model.manifest,
        version: model.version.version,
        inputs: request.inputs,
        outputNames: request.outputNames,
        id,
        requestId: trace.requestId,
        traceparent: trace.traceparent,
      });
      return {
        outputs: forwarded.outputs,
        modelVersion: forwarded.modelVersion,
        tier: 'gpu',
        gpuRunMs: forwarded.runMs,
        provider: forwarded.provider ?? 'unknown',
      };
    } catch (err) {
      if (!(err instanceof BackendUnavailable) || !this.#runsHere(model)) throw err;
      log(`request ${trace.requestId}: ${err.message}; running ${model.manifest.name} at the edge instead`);
      return this.#runHere(model, request, 'edge-fallback');
    }
  }

  /**
   * Resolves when the model can answer: its session here, or, for a model the backend runs, what the
   * edge knows without asking it (the ready route is public, and a call would start a GPU instance
   * from zero on Cloud Run): a backend is configured and its breaker for the model is not open.
   */
  async ready(model: EdgeModel): Promise<void> {
    if (this.#runsHere(model)) return this.#deps.runtime.ready(model);
    const { backend } = this.#deps;
    if (!backend)
      throw new BackendUnavailable(`model '${model.manifest.name}' runs on the GPU backend, and none is configured (BACKEND_URL)`, 60);
    if (backend.modelState(model.manifest.name) === 'open')
      throw new BackendUnavailable(`model '${model.manifest.name}' failed repeatedly on the GPU backend (circuit open)`, 5);
  }

  /**
   * Whether `/v2` requests for this version may run here: the edge carries it, and the model is one
   * the edge serves. A gpu-tier model's edge version is for the task pipelines' small inputs; a
   * caller's own tensors for it go to the backend, and never fall back here.
   */
  #runsHere(model: EdgeModel): boolean {
    return model.weights !== undefined && servedBy(model.manifest, 'edge');
  }

  async #runHere(model: EdgeModel, request: DecodedInferRequest, tier: ServedTier): Promise<InferenceOutcome> {
    const outputs = await this.#deps.runtime.run(model, request.inputs, request.outputNames);
    return { outputs, modelVersion: model.version.version, tier, provider: 'wasm' };
  }
}
