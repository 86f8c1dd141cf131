// A RunModel (models/tasks/run-model.ts) over onnxruntime-node sessions, so the quantizer drives the
// real task pipelines: calibration sees exactly the tensors the service feeds the model.

import * as ort from 'onnxruntime-node';
import type { NamedTensors, RunModel, TaskTensor } from '../../../models/tasks/run-model.ts';
import type { Datatype } from '../../../protocol/datatypes.ts';

const ortTypes: Partial<Record<Datatype, ort.Tensor.Type>> = {
  FP32: 'float32',
  INT64: 'int64',
  FP16: 'float16',
  INT32: 'int32',
  UINT8: 'uint8',
  INT8: 'int8',
};
const taskTypes: Record<string, Datatype> = {
  float32: 'FP32',
  int64: 'INT64',
  float16: 'FP16',
  int32: 'INT32',
  uint8: 'UINT8',
  int8: 'INT8',
};

export function toOrtFeeds(feeds: NamedTensors): Record<string, ort.Tensor> {
  return Object.fromEntries(
    Object.entries(feeds).map(([name, t]) => {
      const type = ortTypes[t.datatype];
      if (!type) throw new Error(`input '${name}': datatype ${t.datatype} is not supported here`);
      return [name, new ort.Tensor(type, t.data as never, t.shape)];
    }),
  );
}

export function fromOrt(tensor: ort.Tensor): TaskTensor {
  return { datatype: taskTypes[tensor.type] ?? 'FP32', shape: [...tensor.dims], data: tensor.data as TaskTensor['data'] };
}

/** One thread: calibration runs share the machine, and results must not depend on the thread count. */
export function createSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Runs each model name with its session; `observe`, when given, sees every raw output of every run. */
export function sessionRunner(
  sessions: ReadonlyMap<string, ort.InferenceSession>,
  declaredOutputs: ReadonlyMap<string, readonly string[]>,
  observe?: (model: string, outputs: ort.InferenceSession.ReturnType) => void,
): RunModel {
  return async (model, feeds) => {
    const session = sessions.get(model);
    if (!session) throw new Error(`no session for model '${model}'`);
    const outputs = await session.run(toOrtFeeds(feeds));
    observe?.(model, outputs);
    const wanted = declaredOutputs.get(model) ?? session.outputNames;
    return Object.fromEntries(wanted.map((name) => [name, fromOrt(outputs[name]!)]));
  };
}
