// Every model the API offers, resolved by name and optional version: the one version of each model the
// edge carries (models/manifest.ts, edgeCarriedVersion) comes with its bundled weights; every other
// version, and the backend's models, come without and are forwarded.

import {
  edgeCarriedVersion,
  edgeCarriedVersions,
  lookupModel,
  type Manifest,
  type ModelVersion,
  parseManifest,
  servedBy,
} from '../models/manifest.ts';
import { IntegrityError, verifyLabels } from '../models/integrity.ts';
import { type Dictionary, parseDictionary } from '../models/tasks/ocr/dictionary.ts';
import type { BundledModel } from './bundled-model.ts';

export interface EdgeModel {
  manifest: Manifest;
  version: ModelVersion;
  /**
   * The version's weights as bundled, when the edge carries this version; verified against
   * `version.sha256` before a session is made. Undefined otherwise: the request is forwarded.
   */
  weights: ArrayBuffer | undefined;
}

export class ModelRegistry {
  readonly manifests: ReadonlyMap<string, Manifest>;
  readonly #weights: ReadonlyMap<string, Record<string, ArrayBuffer>>;
  readonly #labels: ReadonlyMap<string, Record<string, string>>;
  readonly #dictionaries = new Map<string, Promise<Dictionary | undefined>>();
  readonly #log: (line: string) => void;

  constructor(bundled: readonly BundledModel[], log: (line: string) => void = () => {}) {
    const manifests = new Map<string, Manifest>();
    const weights = new Map<string, Record<string, ArrayBuffer>>();
    const labels = new Map<string, Record<string, string>>();
    for (const model of bundled) {
      const manifest = parseManifest(model.manifest, 'in the edge bundle');
      for (const carried of edgeCarriedVersions(manifest)) {
        if (!model.weights[carried.version]) {
          throw new Error(
            `edge bundle lacks weights for model '${manifest.name}' version '${carried.version}': run npm run models -- sync`,
          );
        }
      }
      manifests.set(manifest.name, manifest);
      weights.set(manifest.name, model.weights);
      labels.set(manifest.name, model.labels ?? {});
    }
    this.manifests = manifests;
    this.#weights = weights;
    this.#labels = labels;
    this.#log = log;
  }

  /**
   * A version's dictionary (its labels, verified by sha256 and parsed once per isolate), or undefined
   * when the bundle does not carry them or they fail verification (logged).
   */
  dictionary(name: string, version: string): Promise<Dictionary | undefined> {
    const key = `${name}@${version}`;
    let found = this.#dictionaries.get(key);
    if (!found) {
      found = this.#loadDictionary(name, version);
      this.#dictionaries.set(key, found);
    }
    return found;
  }

  async #loadDictionary(name: string, version: string): Promise<Dictionary | undefined> {
    const { manifest, version: found } = lookupModel(this.manifests, name, version, 'edge');
    const text = this.#labels.get(name)?.[version];
    if (text === undefined || !found.labels) return undefined;
    try {
      const verified = await verifyLabels(manifest, found, new TextEncoder().encode(text));
      const classes = manifest.outputs[0]?.shape.at(-1);
      return parseDictionary(verified, classes === -1 ? undefined : classes);
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      this.#log(`refusing ${err.message}`);
      return undefined;
    }
  }

  /**
   * A `/v2` request's model: the named version, or, when it names none, the default of the tier that
   * serves the model (the edge's choice for tier edge and auto, the backend's for tier gpu).
   */
  resolve(name: string, version?: string): EdgeModel {
    const manifest = this.manifests.get(name);
    const found = lookupModel(this.manifests, name, version, manifest && !servedBy(manifest, 'edge') ? 'gpu' : 'edge');
    return { ...found, weights: this.#weights.get(name)![found.version.version] };
  }

  /** The version a task pipeline runs at the edge, with its weights; undefined when the edge has none. */
  carried(name: string): EdgeModel | undefined {
    const manifest = this.manifests.get(name);
    const version = manifest && edgeCarriedVersion(manifest);
    const weights = version && this.#weights.get(name)?.[version.version];
    return manifest && version && weights ? { manifest, version, weights } : undefined;
  }
}
