// onnxruntime-node sessions, one per served model version: weights verified by sha256 before a
// session exists, execution providers tried in order of preference (CUDA first where it is
// installed), and one warm-up run before the model counts as ready. A model that fails any step is
// unavailable, with its reason, while the others serve.

import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { datatypeFromOrt, datatypeOf } from '../protocol/datatypes.ts';
import { InvalidInput, ModelUnavailable } from '../protocol/errors.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import { IntegrityError, verifyWeights } from '../models/integrity.ts';
import type { ExecutionProvider } from './config.ts';
import type { BackendModel } from './registry.ts';
import { warmupInputs } from './warmup.ts';

export type ModelState =
  | { status: 'loading' }
  | { status: 'ready'; provider: ExecutionProvider }
  | { status: 'unavailable'; reason: string };

export interface RuntimeOptions {
  executionProviders: readonly ExecutionProvider[];
  /** Threads per session run; onnxruntime picks one per core when undefined. */
  intraOpThreads?: number | undefined;
  log: (line: string) => void;
}

// onnxruntime's severity levels: 3 = error, 4 = fatal. Sessions log only fatal errors: a failed run
// is answered to its caller and a failed load is reported in our own log line, each exactly once.
const sessionLogLevel = 4;

export class OnnxRuntime {
  readonly #options: RuntimeOptions;
  readonly #sessions = new Map<string, ort.InferenceSession>();
  readonly #states = new Map<string, ModelState>();

  constructor(options: RuntimeOptions) {
    this.#options = options;
  }

  state(model: BackendModel): ModelState {
    return this.#states.get(model.key) ?? { status: 'loading' };
  }

  /** Throws ModelUnavailable, with the reason, unless the model is loaded and warmed up. */
  ensureReady(model: BackendModel): void {
    const state = this.state(model);
    if (state.status === 'ready') return;
    const name = `model '${model.manifest.name}' version '${model.version.version}'`;
    throw new ModelUnavailable(state.status === 'loading' ? `${name} is still loading` : `${name} is unavailable: ${state.reason}`);
  }

  /** Loads every model one after another (each load uses every core); never throws. */
  async load(models: readonly BackendModel[]): Promise<void> {
    for (const model of models) {
      this.#states.set(model.key, { status: 'loading' });
      try {
        const provider = await this.#load(model);
        this.#states.set(model.key, { status: 'ready', provider });
      } catch (err) {
        const reason = err instanceof IntegrityError ? `its weights failed sha256 verification (${err.message})` : (err as Error).message;
        this.#states.set(model.key, { status: 'unavailable', reason });
        this.#options.log(`model ${model.key} unavailable: ${reason}`);
      }
    }
  }

  async #load(model: BackendModel): Promise<ExecutionProvider> {
    const started = performance.now();
    const weights = await readFile(model.weightsPath).catch((err: Error) => {
      throw new Error(`cannot read ${model.version.file}: ${err.message}`);
    });
    await verifyWeights(model.manifest, model.version, weights);
    const { session, provider } = await this.#createSession(model, weights);
    this.#sessions.set(model.key, session);
    const manifest = model.manifest;
    await this.run(model, warmupInputs(manifest), manifest.outputs.map((o) => o.name)).catch((err: Error) => {
      throw new Error(`warm-up run failed: ${err.message}`);
    });
    this.#options.log(`model ${model.key} ready on ${provider} (loaded, verified and warmed up in ${(performance.now() - started).toFixed(0)} ms)`);
    return provider;
  }

  /** Tries each provider in preference order; a session keeps the later ones as per-node fallbacks. */
  async #createSession(model: BackendModel, weights: Uint8Array): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider }> {
    const providers = this.#options.executionProviders;
    const failures: string[] = [];
    for (const [index, provider] of providers.entries()) {
      try {
        const session = await ort.InferenceSession.create(weights, {
          executionProviders: providers.slice(index),
          graphOptimizationLevel: 'all',
          logSeverityLevel: sessionLogLevel,
          ...(this.#options.intraOpThreads !== undefined && { intraOpNumThreads: this.#options.intraOpThreads }),
        });
        if (failures.length > 0) this.#options.log(`model ${model.key}: ${failures.join('; ')}; using ${provider}`);
        return { session, provider };
      } catch (err) {
        failures.push(`${provider} unavailable (${(err as Error).message.split('\n', 1)[0]})`);
      }
    }
    throw new Error(`no execution provider could load it: ${failures.join('; ')}`);
  }

  async run(model: BackendModel, inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const session = this.#sessions.get(model.key);
    if (!session) {
      this.ensureReady(model);
      throw new ModelUnavailable(`model '${model.manifest.name}' has no session`);
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) feeds[input.name] = new ort.Tensor(datatypeOf(input.datatype).ortType, input.data, input.shape);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await session.run(feeds, outputNames as string[]);
    } catch (err) {
      // Inputs reach here only after their names, datatypes, ranks and fixed sizes have been checked
      // against the manifest, so a failing run is a size the model cannot take (e.g. a PaddleOCR
      // detector side that is not a multiple of 32): the caller's to fix.
      throw new InvalidInput(`model '${model.manifest.name}' cannot run on this input: ${(err as Error).message.split('\n', 1)[0]}`);
    }
    return outputNames.map((name) => {
      const output = results[name]!;
      const datatype = datatypeFromOrt(output.type);
      if (!datatype) throw new Error(`model '${model.manifest.name}' output '${name}' has type ${output.type}, which the protocol cannot carry`);
      return { name, datatype, shape: [...output.dims], data: output.data as Tensor['data'] };
    });
  }

  async close(): Promise<void> {
    for (const session of this.#sessions.values()) await session.release();
    this.#sessions.clear();
  }
}
