// What each carried model costs inside onnxruntime-web, the edge's runtime, measured in this Node
// process with the edge's settings (WASM, one thread): the memory its session takes once created, and
// the CPU time of its first inference. Sessions are kept, as the Worker keeps them for the isolate's life.

import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ort from 'onnxruntime-web/wasm';
import { verifyWeights } from '../../../models/integrity.ts';
import type { NamedTensors } from '../../../models/tasks/run-model.ts';
import { datatypeOf } from '../../../protocol/datatypes.ts';
import type { CarriedModel } from './edge-models.ts';

export interface SessionCost {
  model: string;
  version: string;
  /** How far creating the session pushed the top of the WASM heap (its high-water mark). */
  sessionWasmBytes: number;
  /** Growth of the JS heap (after a full GC) across creating the session. */
  sessionJsBytes: number;
  /** How far the first run pushed the top of the WASM heap further (kernels' buffers, activations). */
  firstRunWasmBytes: number;
  /** CPU time (user + system) of sha256 verification and session creation. */
  createCpuMs: number;
  /** CPU time of the first `run` on the model's first input. */
  firstRunCpuMs: number;
  /** The input's shapes, for the report. */
  inputShapes: Record<string, number[]>;
}

export interface SessionCosts {
  /** The WASM memory onnxruntime-web starts with (its initial pages), before any session. */
  runtimeWasmBytes: number;
  /** The top of the WASM heap once the runtime is initialised, before any session: its own share. */
  runtimeHeapTopBytes: number;
  /** JS heap growth and CPU time of initialising onnxruntime-web (here including compiling its .wasm, which Workers do at upload). */
  runtimeJsBytes: number;
  runtimeInitCpuMs: number;
  /** The WASM memory's size after every session and first run: what the isolate would hold. */
  finalWasmBytes: number;
  models: SessionCost[];
}

// As edge/wasm-runtime.ts creates its sessions (its defaultSessionOptions); the edge's numbers only
// hold for the same options.
const edgeSessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
  enableCpuMemArena: false,
  enableMemPattern: false,
};

// onnxruntime-web keeps its WebAssembly memory to itself; it is seen on its way through instantiate.
let wasmMemory: WebAssembly.Memory | undefined;
let runtimeWasmBytes = 0;
function watchInstantiate(): () => void {
  const instantiate = WebAssembly.instantiate;
  const find = (value: unknown, depth: number): void => {
    if (wasmMemory || !value || typeof value !== 'object' || depth > 2) return;
    if (value instanceof WebAssembly.Memory) {
      wasmMemory = value;
      runtimeWasmBytes = value.buffer.byteLength;
      return;
    }
    for (const inner of Object.values(value)) find(inner, depth + 1);
  };
  WebAssembly.instantiate = (async (source: never, imports?: WebAssembly.Imports) => {
    find(imports, 0);
    const result = (await instantiate(source, imports)) as WebAssembly.WebAssemblyInstantiatedSource | WebAssembly.Instance;
    find('instance' in result ? result.instance.exports : result.exports, 0);
    return result;
  }) as typeof WebAssembly.instantiate;
  return () => {
    WebAssembly.instantiate = instantiate;
  };
}

/**
 * The WASM heap's high-water mark: the end of its last non-zero word. Memory the heap never reached is
 * still zero (fresh pages are), so this finds the top even inside the initial pages, where the
 * memory's size alone would show no growth.
 */
function wasmHeapTop(memory: WebAssembly.Memory): number {
  const words = new Uint32Array(memory.buffer);
  let i = words.length - 1;
  while (i >= 0 && words[i] === 0) i--;
  return (i + 1) * 4;
}

let collectGarbage: (() => void) | undefined;
function jsHeapBytes(): number {
  if (!collectGarbage) {
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

function toOrt(feeds: NamedTensors): Record<string, ort.Tensor> {
  return Object.fromEntries(
    Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor(datatypeOf(t.datatype).ortType, t.data as never, t.shape)]),
  );
}

/**
 * Creates a session for each model in turn, keeping them all, and runs each once on its input.
 * onnxruntime-web is one runtime per process: call this once per process.
 */
export async function measureSessionCosts(
  models: readonly CarriedModel[],
  inputs: ReadonlyMap<string, NamedTensors>,
  log: (line: string) => void = () => {},
): Promise<SessionCosts> {
  ort.env.wasm.numThreads = 1; // workerd has no threads for WebAssembly
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'fatal';
  const costs: SessionCost[] = [];
  const sessions: ort.InferenceSession[] = [];
  const restore = watchInstantiate();
  try {
    // Initialise the runtime on its own, so the first model is not charged for it: a session from bytes
    // that are no model loads onnxruntime-web's WebAssembly, then fails to parse.
    log('  initialising onnxruntime-web (WASM, 1 thread)…');
    const jsBeforeRuntime = jsHeapBytes();
    const runtimeStart = process.cpuUsage();
    await ort.InferenceSession.create(new Uint8Array(16), { ...edgeSessionOptions }).then(
      (s) => s.release(),
      () => undefined,
    );
    const runtimeInitCpuMs = cpuMsSince(runtimeStart);
    const runtimeJsBytes = Math.max(0, jsHeapBytes() - jsBeforeRuntime);
    const memory = wasmMemory;
    if (!memory) throw new Error('onnxruntime-web initialised without its WebAssembly memory being seen');
    const runtimeHeapTopBytes = wasmHeapTop(memory);
    for (const model of models) {
      const { manifest, version } = model;
      const feeds = inputs.get(manifest.name);
      if (!feeds) throw new Error(`no first input for model '${manifest.name}'`);
      log(`  ${manifest.name}@${version.version}: creating its onnxruntime-web session…`);
      const weights = new Uint8Array(await readFile(model.weightsPath));
      const topBefore = wasmHeapTop(memory);
      const jsBefore = jsHeapBytes();
      const createStart = process.cpuUsage();
      await verifyWeights(manifest, version, weights);
      const session = await ort.InferenceSession.create(weights, { ...edgeSessionOptions });
      const createCpuMs = cpuMsSince(createStart);
      sessions.push(session);
      const topAfterCreate = wasmHeapTop(memory);
      const sessionJsBytes = Math.max(0, jsHeapBytes() - jsBefore);

      log(`  ${manifest.name}@${version.version}: first inference…`);
      const ortFeeds = toOrt(feeds);
      const runStart = process.cpuUsage();
      await session.run(ortFeeds);
      const firstRunCpuMs = cpuMsSince(runStart);
      costs.push({
        model: manifest.name,
        version: version.version,
        sessionWasmBytes: Math.max(0, topAfterCreate - topBefore),
        sessionJsBytes,
        firstRunWasmBytes: Math.max(0, wasmHeapTop(memory) - topAfterCreate),
        createCpuMs,
        firstRunCpuMs,
        inputShapes: Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, t.shape])),
      });
    }
    return {
      runtimeWasmBytes,
      runtimeHeapTopBytes,
      runtimeJsBytes,
      runtimeInitCpuMs,
      finalWasmBytes: memory.buffer.byteLength,
      models: costs,
    };
  } finally {
    restore();
    for (const session of sessions) await session.release();
  }
}
