// RunModels (models/tasks/run-model.ts) over onnxruntime sessions of the model folders: how the
// pipeline tests and benchmarks run the real models without a tier. Each session is created once,
// from weights that passed their manifest's sha256, and reused. `nativeRunModel` runs onnxruntime-node;
// web-run-model.ts gives the same over onnxruntime-web.

import * as ortNode from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { datatypeFromOrt, datatypeOf } from '../../protocol/datatypes.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { findVersion } from '../../models/manifest.ts';
import { verifyWeights } from '../../models/integrity.ts';
import type { NamedTensors, RunModel } from '../../models/tasks/run-model.ts';
import { repoRoot } from './edge-worker.ts';

type TensorData = NamedTensors[string]['data'];

/** What onnxruntime-node and onnxruntime-web share, as far as running a model goes. */
export interface OrtModule {
  Tensor: new (type: never, data: TensorData, dims: readonly number[]) => unknown;
  InferenceSession: {
    create(
      bytes: Uint8Array,
      options: Record<string, unknown>,
    ): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { type: string; dims: readonly number[]; data: unknown }>> }>;
  };
}

export interface OrtRunModel {
  run: RunModel;
  /** Called after each model run with its wall time; replaceable between runs. */
  onModelRun: (model: string, ms: number) => void;
}

/** `versions` picks a version per model (its default otherwise). */
export function ortRunModel(ort: OrtModule, sessionOptions: Record<string, unknown>, versions: Record<string, string> = {}): OrtRunModel {
  const sessions = new Map<string, ReturnType<OrtModule['InferenceSession']['create']>>();
  const handle: OrtRunModel = {
    onModelRun: () => {},
    run: async (model, feeds) => {
      let session = sessions.get(model);
      if (!session)
        sessions.set(
          model,
          (session = verifiedWeights(model, versions[model]).then((bytes) => ort.InferenceSession.create(bytes, sessionOptions))),
        );
      const ortFeeds = Object.fromEntries(
        Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor(datatypeOf(t.datatype).ortType as never, t.data, t.shape)]),
      );
      const started = performance.now();
      const results = await (await session).run(ortFeeds);
      handle.onModelRun(model, performance.now() - started);
      const outputs: NamedTensors = {};
      for (const [name, value] of Object.entries(results)) {
        const datatype = datatypeFromOrt(value.type);
        if (!datatype) throw new Error(`model '${model}' output '${name}' has unsupported type ${value.type}`);
        outputs[name] = { datatype, shape: [...value.dims], data: value.data as TensorData };
      }
      return outputs;
    },
  };
  return handle;
}

/** onnxruntime-node on one thread, as the backend runs a model on CPU. */
export function nativeRunModel(versions: Record<string, string> = {}): OrtRunModel {
  return ortRunModel(ortNode as unknown as OrtModule, { intraOpNumThreads: 1, interOpNumThreads: 1 }, versions);
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
