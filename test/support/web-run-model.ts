// A RunModel over onnxruntime-web in this process: the edge's runtime (WASM, one thread, the session
// options of edge/wasm-runtime.ts) without workerd, for measurements that need the stage split of a
// pipeline in that runtime and for checking a pipeline reads the same there.

import * as ortWeb from 'onnxruntime-web';
import { type OrtModule, type OrtRunModel, ortRunModel } from './native-run-model.ts';

export function webRunModel(versions: Record<string, string> = {}): OrtRunModel {
  ortWeb.env.wasm.numThreads = 1;
  const sessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false };
  return ortRunModel(ortWeb as unknown as OrtModule, sessionOptions, versions);
}
