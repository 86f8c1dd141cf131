// The Worker's entry: builds the app once per isolate from the bundled models and the compiled
// onnxruntime-web module, then serves every request with it.

// wrangler's module rules resolve files by path, not through package exports.
import ortWasm from '../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import { createApp } from './app.ts';
import { bundledModels } from './models.generated.ts';
import { ModelRegistry } from './registry.ts';
import { createWasmRuntime } from './wasm-runtime.ts';

const log = (line: string) => console.log(line);
const app = createApp({
  registry: new ModelRegistry(bundledModels),
  runtime: createWasmRuntime({ wasmModule: ortWasm, log }),
  log,
});

export default app;
