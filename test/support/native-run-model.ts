// A RunModel (models/tasks/run-model.ts) over onnxruntime-node sessions of the model folders: how the
// pipeline tests run the real models without a tier. Each session is created once, from weights that
// passed their manifest's sha256, and reused.

import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { datatypeFromOrt, datatypeOf } from '../../protocol/datatypes.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { findVersion } from '../../models/manifest.ts';
import { verifyWeights } from '../../models/integrity.ts';
import type { NamedTensors, RunModel } from '../../models/tasks/run-model.ts';
import { repoRoot } from './edge-worker.ts';

export interface NativeRunModel {
  run: RunModel;
  /** Milliseconds spent inside `session.run`, per model, since creation. */
  modelMs: Map<string, number>;
}

/** `versions` picks a version per model (its default otherwise). */
export function nativeRunModel(versions: Record<string, string> = {}): NativeRunModel {
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  const modelMs = new Map<string, number>();

  async function createSession(model: string): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(await verifiedWeights(model, versions[model]), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  }

  const run: RunModel = async (model, feeds) => {
    let session = sessions.get(model);
    if (!session) sessions.set(model, (session = createSession(model)));
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      ortFeeds[name] = new ort.Tensor(datatypeOf(tensor.datatype).ortType, tensor.data, tensor.shape);
    }
    const started = performance.now();
    const results = await (await session).run(ortFeeds);
    modelMs.set(model, (modelMs.get(model) ?? 0) + performance.now() - started);
    const outputs: NamedTensors = {};
    for (const [name, value] of Object.entries(results)) {
      const datatype = datatypeFromOrt(value.type);
      if (!datatype) throw new Error(`model '${model}' output '${name}' has unsupported type ${value.type}`);
      outputs[name] = { datatype, shape: [...value.dims], data: value.data as NamedTensors[string]['data'] };
    }
    return outputs;
  };
  return { run, modelMs };
}

/** A model version's weights (its default version when none is named), once they match their manifest's sha256. */
export async function verifiedWeights(model: string, wanted: string | undefined): Promise<Uint8Array> {
  const folder = (await loadModelFolders(join(repoRoot, 'models'))).find((f) => f.manifest.name === model);
  if (!folder) throw new Error(`no model folder for '${model}'`);
  const version = findVersion(folder.manifest, wanted);
  if (!version) throw new Error(`model '${model}' has no version '${wanted}'`);
  const bytes = new Uint8Array(await readFile(join(folder.dir, version.file)));
  await verifyWeights(folder.manifest, version, bytes);
  return bytes;
}
