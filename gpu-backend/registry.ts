// The models this backend serves, read from the model folders and resolved by name and optional
// version: tier `gpu` and `auto`, and any other model a task pipeline it serves runs (silero-vad is
// tier `edge`, yet a recording too long for the edge's memory runs /v1/vad here).

import { join } from 'node:path';
import type { ModelFolder } from '../models/catalog-fs.ts';
import { lookupModel, type Manifest, type ModelVersion, servableVersions, servedBy } from '../models/manifest.ts';

export interface BackendModel {
  /** `name@version`, the key of its session, batcher and metrics. */
  key: string;
  manifest: Manifest;
  version: ModelVersion;
  weightsPath: string;
  /** The version's labels file (a recogniser's dictionary), when its manifest names one. */
  labelsPath: string | undefined;
}

export class ModelRegistry {
  readonly manifests: ReadonlyMap<string, Manifest>;
  readonly models: readonly BackendModel[];

  constructor(folders: readonly ModelFolder[], taskModels: readonly string[] = []) {
    const served = folders.filter(({ manifest }) => servedBy(manifest, 'gpu') || taskModels.includes(manifest.name));
    this.manifests = new Map(served.map(({ manifest }) => [manifest.name, manifest]));
    this.models = served.flatMap(({ dir, manifest }) =>
      servableVersions(manifest).map((version) => ({
        key: `${manifest.name}@${version.version}`,
        manifest,
        version,
        weightsPath: join(dir, version.file),
        labelsPath: version.labels && join(dir, version.labels.file),
      })),
    );
  }

  /** The named version of a model, or the backend's default version when `version` is undefined. */
  resolve(name: string, version?: string): BackendModel {
    const found = lookupModel(this.manifests, name, version, 'gpu');
    return this.models.find((model) => model.manifest === found.manifest && model.version === found.version)!;
  }
}
