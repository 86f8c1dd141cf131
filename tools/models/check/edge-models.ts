// The model versions the edge Worker carries (`edgeCarriedVersions`: its serving choice and, for a
// model it serves, the reference version a caller may name), with the bytes of their weights and
// labels as they lie in the model folder (what the bundle embeds). Each may hold a session at once.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelFolders } from '../../../models/catalog-fs.ts';
import { edgeCarriedVersions, type Manifest, type ModelVersion } from '../../../models/manifest.ts';

export interface CarriedModel {
  manifest: Manifest;
  version: ModelVersion;
  dir: string;
  weightsPath: string;
  weightsBytes: number;
  /** The labels file's bytes (a recogniser's dictionary); 0 when the version has none. */
  labelsBytes: number;
}

async function fileBytes(path: string, what: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    throw new Error(`${what} ${path} is missing: run \`npm run models -- sync\``);
  }
}

export async function carriedModels(modelsDir: string): Promise<CarriedModel[]> {
  const carried: CarriedModel[] = [];
  for (const { dir, manifest } of await loadModelFolders(modelsDir)) {
    for (const version of edgeCarriedVersions(manifest)) {
      const weightsPath = join(dir, version.file);
      const label = `${manifest.name}@${version.version}`;
      carried.push({
        manifest,
        version,
        dir,
        weightsPath,
        weightsBytes: await fileBytes(weightsPath, `${label}: weights`),
        labelsBytes: version.labels ? await fileBytes(join(dir, version.labels.file), `${label}: labels`) : 0,
      });
    }
  }
  return carried;
}
