// The models this backend serves (tier `gpu` or `auto`), read from the model folders and resolved by
// name and optional version.

import { join } from 'node:path';
import type { ModelFolder } from '../models/catalog-fs.ts';
import { lookupModel, type Manifest, type ModelVersion, servedBy } from '../models/manifest.ts';

export interface BackendModel {
  /** `name@version`, the key of its session, batcher and metrics. */
  key: string;
  manifest: Manifest;
  version: ModelVersion;
  weightsPath: string;
}

export class ModelRegistry {
  readonly manifests: ReadonlyMap<string, Manifest>;
  readonly models: readonly BackendModel[];

  constructor(folders: readonly ModelFolder[]) {
    const served = folders.filter(({ manifest }) => servedBy(manifest, 'gpu'));
    this.manifests = new Map(served.map(({ manifest }) => [manifest.name, manifest]));
    this.models = served.flatMap(({ dir, manifest }) =>
      manifest.versions.map((version) => ({
        key: `${manifest.name}@${version.version}`,
        manifest,
        version,
        weightsPath: join(dir, version.file),
      })),
    );
  }

  /** The named version of a model, or its default version when `version` is undefined. */
  resolve(name: string, version?: string): BackendModel {
    const found = lookupModel(this.manifests, name, version);
    return this.models.find((model) => model.manifest === found.manifest && model.version === found.version)!;
  }
}
