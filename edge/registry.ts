// Every model the API offers, resolved by name and optional version: those the edge runs itself carry
// their bundled weights; the backend's (tier `gpu`) carry none and are forwarded.

import { lookupModel, type Manifest, type ModelVersion, parseManifest, servedBy } from '../models/manifest.ts';
import type { BundledModel } from './bundled-model.ts';

export interface EdgeModel {
  manifest: Manifest;
  version: ModelVersion;
  /**
   * The version's weights as bundled, for models the edge can run (tier `edge` or `auto`); verified
   * against `version.sha256` before a session is made. Undefined for tier `gpu`.
   */
  weights: ArrayBuffer | undefined;
}

export class ModelRegistry {
  readonly manifests: ReadonlyMap<string, Manifest>;
  readonly #weights: ReadonlyMap<string, Record<string, ArrayBuffer>>;

  constructor(bundled: readonly BundledModel[]) {
    const manifests = new Map<string, Manifest>();
    const weights = new Map<string, Record<string, ArrayBuffer>>();
    for (const model of bundled) {
      const manifest = parseManifest(model.manifest, 'in the edge bundle');
      for (const version of servedBy(manifest, 'edge') ? manifest.versions : []) {
        if (!model.weights[version.version]) {
          throw new Error(`edge bundle lacks weights for model '${manifest.name}' version '${version.version}': run npm run models -- sync`);
        }
      }
      manifests.set(manifest.name, manifest);
      weights.set(manifest.name, model.weights);
    }
    this.manifests = manifests;
    this.#weights = weights;
  }

  /** The named version of a model, or its default version when `version` is undefined. */
  resolve(name: string, version?: string): EdgeModel {
    const found = lookupModel(this.manifests, name, version);
    return { ...found, weights: this.#weights.get(name)![found.version.version] };
  }
}
