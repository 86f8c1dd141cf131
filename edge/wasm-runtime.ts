// onnxruntime-web's WebAssembly backend inside workerd: one InferenceSession per model version, created
// on first use after its weights pass sha256, and kept for the isolate's life.

import * as ort from 'onnxruntime-web/wasm';
import { datatypeFromOrt, datatypeOf } from '../protocol/datatypes.ts';
import { ModelUnavailable } from '../protocol/errors.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import type { AuditLog } from '../protocol/audit.ts';
import { IntegrityError, verifyWeights } from '../models/integrity.ts';
import { inputRejectedByModel } from '../models/run-error.ts';
import type { EdgeModel } from './registry.ts';

export interface InferenceRuntime {
  /** Resolves once the model's session exists; rejects with ModelUnavailable when it cannot. */
  ready(model: EdgeModel): Promise<void>;
  run(model: EdgeModel, inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]>;
}

export interface WasmRuntimeOptions {
  /** onnxruntime-web's .wasm, compiled by the Workers runtime at upload (a CompiledWasm module). */
  wasmModule: WebAssembly.Module;
  sessionOptions?: ort.InferenceSession.SessionOptions;
  log?: (line: string) => void;
  /** Told of weights that fail their sha256 (a security event: protocol/audit.ts). */
  audit?: AuditLog;
}

// Session options measured by bench/edge.ts on these models: the CPU memory arena and memory-pattern
// planning cost more per run than they save when one request runs at a time in a single thread.
const defaultSessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
  enableCpuMemArena: false,
  enableMemPattern: false,
  // A failed run is the caller's bad input, answered as a 400; ORT would also log each one as an
  // error. Set on the session, which its runs inherit, rather than per run: run options are built in
  // WebAssembly and freed again on every run, ~6% of a Silero VAD frame's run (node, side by side).
  logSeverityLevel: 4,
};

// Any bytes will do: a set `wasmBinary` only stops onnxruntime-web from fetching its .wasm by URL,
// and the bytes themselves reach nothing but the `instantiate` below.
const wasmBinaryPlaceholder = new Uint8Array(8);

/**
 * Workers forbid compiling WebAssembly at run time, so Emscripten's `WebAssembly.instantiate(bytes)`
 * would throw. While onnxruntime-web initialises, an instantiate from bytes is answered with an
 * instance of the module the runtime compiled at upload; instantiating a Module passes through.
 */
async function withPrecompiledWasm<T>(wasmModule: WebAssembly.Module, start: () => Promise<T>): Promise<T> {
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = (async (source: unknown, imports?: WebAssembly.Imports) => {
    if (source instanceof WebAssembly.Module) return instantiate(source, imports);
    return { instance: await instantiate(wasmModule, imports), module: wasmModule };
  }) as typeof WebAssembly.instantiate;
  try {
    return await start();
  } finally {
    WebAssembly.instantiate = instantiate;
  }
}

export function createWasmRuntime(options: WasmRuntimeOptions): InferenceRuntime {
  const log = options.log ?? ((line: string) => console.log(line));
  const sessionOptions = { ...defaultSessionOptions, ...options.sessionOptions };
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  let initialised: Promise<unknown> | undefined;

  ort.env.wasm.numThreads = 1; // workerd has no threads for WebAssembly
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = wasmBinaryPlaceholder;
  ort.env.logLevel = 'fatal';

  async function createSession(model: EdgeModel): Promise<ort.InferenceSession> {
    const { manifest, version, weights } = model;
    if (!weights) throw new ModelUnavailable(`model '${manifest.name}' runs on the GPU backend, not at the edge`);
    const startedMs = Date.now();
    try {
      await verifyWeights(manifest, version, weights);
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      log(`refusing ${err.message}`);
      options.audit?.({
        event: 'model-integrity-failed',
        model: manifest.name,
        version: version.version,
        file: version.file,
        tier: 'edge',
      });
      throw new ModelUnavailable(
        `model '${manifest.name}' version '${version.version}' is unavailable: its weights failed sha256 verification`,
      );
    }
    // The first session also initialises the WebAssembly backend; later ones wait for it, so the
    // instantiate interposition is in place exactly once.
    const create = () => ort.InferenceSession.create(new Uint8Array(weights), { ...sessionOptions });
    const previous = initialised;
    const session = previous ? previous.then(create, create) : withPrecompiledWasm(options.wasmModule, create);
    initialised ??= session.catch(() => undefined);
    try {
      const created = await session;
      log(`session ready: ${manifest.name}@${version.version} (onnxruntime-web wasm, 1 thread) in ${Date.now() - startedMs} ms`);
      return created;
    } catch (err) {
      log(`session failed: ${manifest.name}@${version.version}: ${(err as Error).message}`);
      throw new ModelUnavailable(`model '${manifest.name}' version '${version.version}' could not be loaded`);
    }
  }

  function session(model: EdgeModel): Promise<ort.InferenceSession> {
    const key = `${model.manifest.name}@${model.version.version}`;
    let pending = sessions.get(key);
    if (!pending) {
      pending = createSession(model);
      sessions.set(key, pending);
    }
    return pending;
  }

  return {
    async ready(model) {
      await session(model);
    },
    async run(model, inputs, outputNames) {
      const active = await session(model);
      let results: ort.InferenceSession.ReturnType;
      try {
        // Shapes were checked before the tensors were decoded (protocol/shape.ts); should onnxruntime
        // still refuse to build a tensor, that is the input's fault too, answered like a refused run.
        const feeds: Record<string, ort.Tensor> = {};
        for (const input of inputs) feeds[input.name] = new ort.Tensor(datatypeOf(input.datatype).ortType, input.data, input.shape);
        results = await active.run(feeds, outputNames as string[]);
      } catch (err) {
        throw inputRejectedByModel(model.manifest, err);
      }
      return outputNames.map((name) => {
        const output = results[name]!;
        const datatype = datatypeFromOrt(output.type);
        if (!datatype)
          throw new Error(`model '${model.manifest.name}' output '${name}' has type ${output.type}, which the protocol cannot carry`);
        return { name, datatype, shape: [...output.dims], data: output.data as Tensor['data'] };
      });
    },
  };
}
