// Reads the model folders from disk (Node only: tools and the GPU backend). The edge cannot read a
// file system; it gets the same manifests through the module bundle that `models sync` generates.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Manifest, parseManifest } from './manifest.ts';

export interface ModelFolder {
  dir: string;
  manifest: Manifest;
}

/** Every `<modelsDir>/<name>/manifest.json`, parsed and checked, sorted by name. */
export async function loadModelFolders(modelsDir: string): Promise<ModelFolder[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true });
  const folders: ModelFolder[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(modelsDir, entry.name);
    const path = join(dir, 'manifest.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue; // a folder without a manifest is not a model (e.g. shared pipeline code)
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`invalid model manifest ${path}: ${(err as Error).message}`);
    }
    const manifest = parseManifest(raw, path);
    if (manifest.name !== entry.name) {
      throw new Error(`invalid model manifest ${path}: name '${manifest.name}' differs from its folder '${entry.name}'`);
    }
    folders.push({ dir, manifest });
  }
  return folders;
}
