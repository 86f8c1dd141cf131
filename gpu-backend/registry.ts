// The models this backend serves (tier `gpu` or `auto`), read from the model folders and resolved by
// name and optional version.

import { join } from 'node:path';
import { NotFound } from '../protocol/errors.ts';
import type { ModelFolder } from '../models/catalog-fs.ts';
import { findVersion, type Manifest, type ModelVersion, servedBy } from '../models/manifest.ts';

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

  manifest(name: string): Manifest {
    const manifest = this.manifests.get(name);
    if (!manifest) throw new NotFound(`model '${name}' is not served here; models: ${[...this.manifests.keys()].join(', ') || 'none'}`);
    return manifest;
  }

  /** The named version of a model, or its default version when `version` is undefined. */
  resolve(name: string, version?: string): BackendModel {
    const manifest = this.manifest(name);
    const found = findVersion(manifest, version);
    if (!found) {
      throw new NotFound(`model '${name}' has no version '${version}'; versions: ${manifest.versions.map((v) => v.version).join(', ')}`);
    }
    return this.models.find((model) => model.manifest === manifest && model.version === found)!;
  }
}
