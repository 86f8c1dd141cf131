// onnxruntime-node sessions, one per served model version, each on its own thread: weights verified
// by sha256 before a session exists, execution providers tried in order of preference (CUDA first
// where it is installed), and one warm-up run before the model counts as ready. A model that fails
// any step is unavailable, with its reason, while the others serve.
//
// A session thread that stops (crashed, out of memory, terminated) is restarted here, from its
// verified weights, with a warm-up run; until it is back the model is `restarting`: its /ready and
// the server's /v2/health/ready answer 503 with the reason, and its requests 503 with Retry-After.
//
// Isolation: sessions are threads of this process, so a native abort inside onnxruntime (which no
// thread survives) would end the server. Rather than a process per session (every tensor copied
// through a pipe instead of moved, onnxruntime and its arenas once per model version), every input
// that reached one is refused before a tensor exists: protocol/shape.ts refuses empty tensors (batch 0
// aborted Silero VAD) and sizes that are not safe integers, and `npm run fuzz` sends thousands of
// generated hostile requests to every model version to show that nothing else reaches one. (A thread
// is no wall either way: terminating a session thread inside a native run aborts the process with
// `terminate called after throwing an instance of 'Napi::Error'`, so nothing here ever does.)

import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { ModelUnavailable } from '../protocol/errors.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import { IntegrityError, verifyWeights } from '../models/integrity.ts';
import { inputRejectedByModel } from '../models/run-error.ts';
import type { Manifest } from '../models/manifest.ts';
import type { ExecutionProvider } from './config.ts';
import { ClientGone } from './incoming-body.ts';
import type { BackendModel } from './registry.ts';
import type { WireScan } from './session-messages.ts';
import { RunFailed, SessionThread } from './session-thread.ts';
import { warmupInputs } from './warmup.ts';

export type ModelState =
  | { status: 'loading' }
  | { status: 'ready'; provider: ExecutionProvider }
  | { status: 'restarting'; reason: string }
  | { status: 'unavailable'; reason: string };

/** What a caller of a restarting model is told to wait: a restart is a load and a warm-up, seconds. */
const restartRetryAfterSeconds = 5;

export interface RuntimeOptions {
  executionProviders: readonly ExecutionProvider[];
  /** Threads per session run; onnxruntime picks one per core when undefined. */
  intraOpThreads?: number | undefined;
  log: (line: string) => void;
}

// onnxruntime's severity levels: 3 = error, 4 = fatal. Sessions log only fatal errors: a failed run
// is answered to its caller and a failed load is reported in our own log line, each exactly once.
const sessionLogLevel = 4;

/** The session options every backend session is created with (the benchmark uses them in-process too). */
export function sessionOptions(intraOpThreads: number | undefined): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    logSeverityLevel: sessionLogLevel,
    ...(intraOpThreads !== undefined && { intraOpNumThreads: intraOpThreads }),
    // onnxruntime's pool threads spin after a run, waiting for the next; in a server that time belongs
    // to the main thread (reading, encoding and writing bodies), which they would otherwise starve.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/**
 * The onnxruntime threads a session of `manifest`'s model runs on: the configured count (undefined or
 * 0: one per core), never more than the model's `maxIntraOpThreads`.
 */
export function intraOpThreadsFor(manifest: Manifest, configured: number | undefined): number | undefined {
  const max = manifest.maxIntraOpThreads;
  if (max === undefined) return configured;
  return configured ? Math.min(configured, max) : max;
}

export class OnnxRuntime {
  readonly #options: RuntimeOptions;
  readonly #sessions = new Map<string, SessionThread>();
  readonly #states = new Map<string, ModelState>();
  #closed = false;

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
    if (state.status === 'loading') throw new ModelUnavailable(`${name} is still loading`);
    if (state.status === 'restarting')
      throw new ModelUnavailable(`${name} is restarting its session: ${state.reason}`, restartRetryAfterSeconds);
    throw new ModelUnavailable(`${name} is unavailable: ${state.reason}`);
  }

  /** The models whose session is being restarted, with why: the server is not ready while any is. */
  restarting(): { key: string; reason: string }[] {
    return [...this.#states].flatMap(([key, state]) => (state.status === 'restarting' ? [{ key, reason: state.reason }] : []));
  }

  /** The model's live session thread, if it has one (for operators' tools and tests that stop one). */
  sessionThread(model: BackendModel): SessionThread | undefined {
    return this.#sessions.get(model.key);
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
    const { thread, provider } = await this.#createSession(model, weights);
    this.#sessions.set(model.key, thread);
    thread.onUnexpectedExit((err) => this.#restart(model, thread, err));
    const manifest = model.manifest;
    await this.run(
      model,
      warmupInputs(manifest),
      manifest.outputs.map((o) => o.name),
    ).catch((err: Error) => {
      throw new Error(`warm-up run failed: ${err.message}`);
    });
    this.#options.log(
      `model ${model.key} ready on ${provider} (loaded, verified and warmed up in ${(performance.now() - started).toFixed(0)} ms)`,
    );
    return provider;
  }

  async #createSession(model: BackendModel, weights: Uint8Array): Promise<{ thread: SessionThread; provider: ExecutionProvider }> {
    const { thread, provider, failures } = await SessionThread.start(
      weights,
      this.#options.executionProviders,
      sessionOptions(intraOpThreadsFor(model.manifest, this.#options.intraOpThreads)),
    );
    if (failures.length > 0) this.#options.log(`model ${model.key}: ${failures.join('; ')}; using ${provider}`);
    return { thread, provider: provider as ExecutionProvider };
  }

  /**
   * Restarts a session whose thread stopped. Its state says `restarting` (with why) until a new
   * session has loaded and warmed up; if that fails the model is unavailable, with the reason, as
   * after a failed load. A thread that keeps stopping is restarted each time, and says so in the log.
   */
  #restart(model: BackendModel, thread: SessionThread, err: Error): void {
    if (this.#closed || this.#sessions.get(model.key) !== thread) return;
    this.#sessions.delete(model.key);
    const reason = `its session stopped (${err.message})`;
    this.#states.set(model.key, { status: 'restarting', reason });
    this.#options.log(`model ${model.key} restarting: ${reason}`);
    this.#load(model).then(
      (provider) => {
        if (this.#closed) return;
        this.#states.set(model.key, { status: 'ready', provider });
      },
      (loadErr: Error) => {
        const failure = `${reason}, and its restart failed: ${loadErr.message}`;
        this.#states.set(model.key, { status: 'unavailable', reason: failure });
        this.#options.log(`model ${model.key} unavailable: ${failure}`);
      },
    );
  }

  async run(model: BackendModel, inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    return this.#onSession(model, (thread) => thread.run(inputs, outputNames));
  }

  /**
   * Runs a recurrent scan (models/tasks/run-model.ts) on the model's session thread, in one message;
   * `signal` aborting stops it at its next turn, and it rejects with ClientGone.
   */
  async scan(model: BackendModel, request: WireScan, signal?: AbortSignal): Promise<Tensor[]> {
    try {
      return await this.#onSession(model, (thread) => thread.scan(request, signal));
    } catch (err) {
      if (signal?.aborted) throw new ClientGone(`the caller went away during the scan of ${request.window.steps} steps`);
      throw err;
    }
  }

  async #onSession(model: BackendModel, work: (thread: SessionThread) => Promise<Tensor[]>): Promise<Tensor[]> {
    const thread = this.#sessions.get(model.key);
    if (!thread) {
      this.ensureReady(model);
      throw new ModelUnavailable(`model '${model.manifest.name}' has no session`);
    }
    try {
      return await work(thread);
    } catch (err) {
      if (thread.stopped) {
        // The thread stopped under this run; its restart is under way (see #restart).
        throw new ModelUnavailable(
          `model '${model.manifest.name}' version '${model.version.version}' is restarting its session: it stopped (${thread.stopped.message})`,
          restartRetryAfterSeconds,
        );
      }
      if (!(err instanceof RunFailed)) throw err;
      // Inputs reach here only after their names, datatypes, ranks and fixed sizes have been checked
      // against the manifest, so a failing run is a size the model cannot take (e.g. a PaddleOCR
      // detector side that is not a multiple of 32): the caller's to fix, worded as on the edge.
      throw inputRejectedByModel(model.manifest, err);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sessions.values()].map((thread) => thread.close()));
    this.#sessions.clear();
  }
}
