// Builds the edge Worker from a bundle of models: the registry, the onnxruntime-web runtime on the
// module the Workers runtime compiled at upload, and the app. Called once per isolate.

import type { Hono } from 'hono';
// wrangler's module rules resolve files by path, not through package exports.
import ortWasm from '../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import { createApp } from './app.ts';
import type { BundledModel } from './bundled-model.ts';
import { ModelRegistry } from './registry.ts';
import { createWasmRuntime } from './wasm-runtime.ts';

export function createEdgeWorker(bundledModels: readonly BundledModel[]): Hono {
  const log = (line: string) => console.log(line);
  return createApp({
    registry: new ModelRegistry(bundledModels),
    runtime: createWasmRuntime({ wasmModule: ortWasm, log }),
    log,
  });
}
