// An onnxruntime session whose `run` is synchronous, for the session worker's tight loops.
//
// Why below the public API: onnxruntime-node's `InferenceSession.run` (onnxruntime-common's
// inference-session-impl.js over onnxruntime-node's dist/backend.js) wraps its native binding's run,
// which is synchronous, in a promise settled from `setImmediate`: each run costs a turn of the event
// loop and a few promises. For one Silero VAD frame (~0.1 ms of model; a recording is ~31 frames a
// second of audio) that adds 14–27% (`npm run bench:tasks`, side by side). So the session is created and
// run through the binding itself (dist/binding.js, as dist/backend.js does), with everything else left
// to the public API: tensors are onnxruntime-common's `Tensor` (the binding builds its outputs with the
// same class, handed to it by `initOrt`), and inputs are checked against the model's names as the
// public `run` checks them.
//
// What breaks if onnxruntime-node changes this (checked for version 1.30.0): the binding module's path
// (dist/binding.js exporting `binding` and `initOrt`), `binding.InferenceSession` with
// `loadModel(buffer, byteOffset, byteLength, options)`, `run(feeds, fetches, runOptions)` returning the
// outputs (not a promise), `dispose()`, `inputMetadata`/`outputMetadata`, and
// `binding.listSupportedBackends()`. `nativeBinding` checks each of these before any session exists
// and throws NativeBindingChanged naming what is missing; test/backend/native-session.test.ts fails
// loudly on it, and on a run that returns a promise.

import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';

/** The installed onnxruntime-node's native binding is not the shape this module was written for. */
export class NativeBindingChanged extends Error {
  override name = 'NativeBindingChanged';
}

/** A run onnxruntime refused (an input it cannot take, a missing input, an unknown output). */
export class NativeRunFailed extends Error {
  override name = 'NativeRunFailed';
}

/** No execution provider in the list could create the session; `failures` says why for each. */
export class NoProviderLoaded extends Error {
  override name = 'NoProviderLoaded';
  readonly failures: readonly string[];
  constructor(failures: readonly string[]) {
    super(`no execution provider could load it: ${failures.join('; ')}`);
    this.failures = failures;
  }
}

interface BindingValueMetadata {
  name: string;
}

interface BindingSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: ort.InferenceSession.SessionOptions): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: ort.InferenceSession.RunOptions): Record<string, unknown>;
  dispose(): void;
  readonly inputMetadata: BindingValueMetadata[];
  readonly outputMetadata: BindingValueMetadata[];
}

interface BindingModule {
  binding: {
    InferenceSession: new () => BindingSession;
    listSupportedBackends(): { name: string; bundled: boolean }[];
  };
  initOrt(): void;
}

const bindingPath = 'onnxruntime-node/dist/binding.js';
let loadedBinding: BindingModule | undefined;

/** onnxruntime-node's native binding, checked to have every member this module uses. */
export function nativeBinding(): BindingModule {
  if (loadedBinding) return loadedBinding;
  const version = ort.env.versions.node ?? 'unknown';
  let module: Partial<BindingModule>;
  try {
    module = createRequire(import.meta.url)(bindingPath) as Partial<BindingModule>;
  } catch (err) {
    throw new NativeBindingChanged(`onnxruntime-node ${version} has no ${bindingPath} (${(err as Error).message})`);
  }
  const missing: string[] = [];
  if (typeof module.initOrt !== 'function') missing.push('initOrt()');
  if (typeof module.binding?.listSupportedBackends !== 'function') missing.push('binding.listSupportedBackends()');
  const prototype = module.binding?.InferenceSession?.prototype as Partial<BindingSession> | undefined;
  for (const member of ['loadModel', 'run', 'dispose'] as const)
    if (typeof prototype?.[member] !== 'function') missing.push(`InferenceSession.${member}()`);
  if (missing.length > 0) throw new NativeBindingChanged(`onnxruntime-node ${version}'s native binding lacks ${missing.join(', ')}`);
  loadedBinding = module as BindingModule;
  return loadedBinding;
}

/** A loaded session, run synchronously on the calling thread. */
export interface NativeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; throws NativeRunFailed when onnxruntime refuses the feeds. */
  run(feeds: Record<string, ort.Tensor>, outputNames: readonly string[]): Record<string, ort.Tensor>;
  release(): void;
}

class BoundSession implements NativeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly #session: BindingSession;
  #released = false;

  constructor(session: BindingSession) {
    this.#session = session;
    this.inputNames = session.inputMetadata.map((m) => m.name);
    this.outputNames = session.outputMetadata.map((m) => m.name);
  }

  run(feeds: Record<string, ort.Tensor>, outputNames: readonly string[]): Record<string, ort.Tensor> {
    if (this.#released) throw new NativeRunFailed('the session was released');
    // The public run's checks, which the binding does not make (a missing input reaches the model).
    for (const name of this.inputNames) if (!feeds[name]) throw new NativeRunFailed(`input '${name}' is missing`);
    const fetches: Record<string, null> = {};
    for (const name of outputNames) {
      if (!this.outputNames.includes(name)) throw new NativeRunFailed(`the model has no output '${name}'`);
      fetches[name] = null;
    }
    let results: Record<string, unknown>;
    try {
      results = this.#session.run(feeds, fetches, {});
    } catch (err) {
      throw new NativeRunFailed((err as Error).message);
    }
    const outputs: Record<string, ort.Tensor> = {};
    for (const name of outputNames) {
      const result = results[name];
      // The binding builds onnxruntime-common Tensors; the public run re-wraps anything else, as here.
      outputs[name] = result instanceof ort.Tensor ? result : toTensor(result);
    }
    return outputs;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#session.dispose();
  }
}

function toTensor(value: unknown): ort.Tensor {
  const { type, data, dims } = (value ?? {}) as { type?: ort.Tensor.Type; data?: ort.Tensor.DataType; dims?: readonly number[] };
  if (!type || !data || !dims) throw new NativeBindingChanged('the native binding answered an output that is not a tensor');
  return new ort.Tensor(type, data, dims);
}

/**
 * Creates the session on the first provider in `providers` that loads, keeping the later ones as
 * per-node fallbacks, and says why each earlier one did not. A provider this onnxruntime-node build
 * does not register is refused before onnxruntime sees it (as the public API refuses it); one it
 * registers but cannot start (CUDA without its libraries or a GPU) fails in `loadModel`. Either way
 * the next provider is tried.
 */
export function loadNativeSession(
  weights: Uint8Array,
  providers: readonly string[],
  options: ort.InferenceSession.SessionOptions,
): { session: NativeSession; provider: string; failures: string[] } {
  const { binding, initOrt } = nativeBinding();
  initOrt();
  const registered = new Set(binding.listSupportedBackends().map((backend) => backend.name));
  const failures: string[] = [];
  for (const [index, provider] of providers.entries()) {
    if (!registered.has(provider)) {
      failures.push(`${provider} unavailable (this onnxruntime-node build does not register it)`);
      continue;
    }
    const session = new binding.InferenceSession();
    try {
      session.loadModel(weights.buffer, weights.byteOffset, weights.byteLength, {
        ...options,
        executionProviders: providers.slice(index).filter((name) => registered.has(name)),
      });
    } catch (err) {
      failures.push(`${provider} unavailable (${(err as Error).message.split('\n', 1)[0]})`);
      continue;
    }
    return { session: new BoundSession(session), provider, failures };
  }
  throw new NoProviderLoaded(failures);
}
