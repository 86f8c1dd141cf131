// The version of each model a tier answers with when a request names none, from the manifests: what
// a task answer's `models` must say.

import { join } from 'node:path';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { type Manifest, tierDefaultVersion } from '../../models/manifest.ts';
import { repoRoot } from './edge-worker.ts';

export async function servedVersions(tier: 'edge' | 'gpu', models: readonly string[]): Promise<Record<string, string>> {
  const folders = await loadModelFolders(join(repoRoot, 'models'));
  return Object.fromEntries(
    models.map((name) => [name, tierDefaultVersion(folders.find((f) => f.manifest.name === name)!.manifest, tier)]),
  );
}

export async function servedManifest(model: string): Promise<Manifest> {
  return (await loadModelFolders(join(repoRoot, 'models'))).find((f) => f.manifest.name === model)!.manifest;
}
