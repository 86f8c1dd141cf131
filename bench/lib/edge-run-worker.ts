// The Worker `npm run bench:edge` times session runs with: the edge's own registry and onnxruntime-web
// runtime (edge/registry.ts, edge/wasm-runtime.ts) on the module workerd compiled at load, without the
// HTTP API around them. workerd's clock stands still while JavaScript runs (it moves between I/O
// events, a Spectre mitigation), so a run cannot be timed from inside: `POST /?model=…&repeat=N`
// runs the same infer request N times, and the benchmark times requests of different N from outside.

import ortWasm from '../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import { bundledModels } from '../../edge/models.generated.ts';
import { ModelRegistry } from '../../edge/registry.ts';
import { createWasmRuntime } from '../../edge/wasm-runtime.ts';
import { readInferRequest } from '../../models/infer-request.ts';

// wrangler.toml binds the jobs' Durable Object class, which every entry of this Worker exports.
export { JobObject } from '../../edge/jobs/job-object.ts';

const registry = new ModelRegistry(bundledModels);
const runtime = createWasmRuntime({ wasmModule: ortWasm, log: () => {} });

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response('edge-run harness: POST /?model=<name>&version=<version>&repeat=<n>\n');
    const query = new URL(request.url).searchParams;
    const model = registry.resolve(query.get('model') ?? '', query.get('version') ?? undefined);
    const repeat = Number(query.get('repeat') ?? '1');
    if (!Number.isInteger(repeat) || repeat < 1) return new Response('repeat must be a positive integer\n', { status: 400 });
    const { decoded } = readInferRequest(new Uint8Array(await request.arrayBuffer()), null, model.manifest);
    for (let i = 0; i < repeat; i++) await runtime.run(model, decoded.inputs, decoded.outputNames);
    return new Response(null, { status: 204 });
  },
};
