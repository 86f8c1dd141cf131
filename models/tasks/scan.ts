// A ScanModel from a RunModel: one model run per step, for a tier whose runs are already cheap (the
// edge's WebAssembly session is in the isolate). The backend runs scans on the session's own thread
// instead (gpu-backend/session-worker.ts), where a step costs no message between threads.

import type { RunModel, ScanModel, TaskTensor } from './run-model.ts';

export function scanByRuns(run: RunModel): ScanModel {
  return async (model, request) => {
    const { window, carry, fixed, collect } = request;
    let collected: Float32Array | undefined;
    let carried: TaskTensor = carry.initial;
    for (let step = 0; step < window.steps; step++) {
      const offset = step * window.hop;
      const outputs = await run(model, {
        // Copies of the fixed tensors (a few bytes): an adapter may move (detach) what it is given.
        ...Object.fromEntries(Object.entries(fixed).map(([name, tensor]) => [name, { ...tensor, data: tensor.data.slice() }])),
        [window.name]: { datatype: 'FP32', shape: [1, window.width], data: window.data.subarray(offset, offset + window.width) },
        [carry.input]: carried,
      });
      const kept = outputs[collect];
      const next = outputs[carry.output];
      if (!kept || !next) throw new Error(`model '${model}' did not answer '${collect}' and '${carry.output}'`);
      collected ??= new Float32Array(window.steps * kept.data.length);
      collected.set(kept.data as Float32Array, step * kept.data.length);
      carried = { datatype: next.datatype, shape: carry.initial.shape, data: next.data };
    }
    return collected ?? new Float32Array(0);
  };
}
