// A RunModel over onnxruntime-web in this process: the edge's runtime (WASM, one thread, the session
// options of edge/wasm-runtime.ts) without workerd, for models the edge does not carry yet and for
// measurements that need the stage split of a pipeline in that runtime.

import * as ort from 'onnxruntime-web';
import { datatypeFromOrt, datatypeOf } from '../../protocol/datatypes.ts';
import type { NamedTensors, RunModel } from '../../models/tasks/run-model.ts';
import { verifiedWeights } from './native-run-model.ts';

export interface WebRunModel {
  run: RunModel;
  /** Called after each model run with its wall time; replaceable between runs. */
  onModelRun: (model: string, ms: number) => void;
}

export function webRunModel(versions: Record<string, string> = {}): WebRunModel {
  ort.env.wasm.numThreads = 1;
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  async function createSession(model: string): Promise<ort.InferenceSession> {
    const bytes = await verifiedWeights(model, versions[model]);
    return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false });
  }
  const handle: WebRunModel = {
    onModelRun: () => {},
    run: async (model, feeds) => {
      let session = sessions.get(model);
      if (!session) sessions.set(model, (session = createSession(model)));
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor(datatypeOf(t.datatype).ortType, t.data, t.shape)]));
      const started = performance.now();
      const results = await (await session).run(ortFeeds);
      handle.onModelRun(model, performance.now() - started);
      const outputs: NamedTensors = {};
      for (const [name, value] of Object.entries(results)) {
        const datatype = datatypeFromOrt(value.type);
        if (!datatype) throw new Error(`model '${model}' output '${name}' has unsupported type ${value.type}`);
        outputs[name] = { datatype, shape: [...value.dims], data: value.data as NamedTensors[string]['data'] };
      }
      return outputs;
    },
  };
  return handle;
}
