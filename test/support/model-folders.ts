// A scratch models/ folder for the toolchain's tests (`models quantize`, `evaluate`, `tune` write into
// it): each named model with only its npm-sourced version and no serving choice, as a model stands
// before anything was derived from it, and the files that version needs copied from the synced tree.

import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './edge-worker.ts';

/** Writes the committed manifest of `model` to `to`, cut back to its npm-sourced versions and without a serving choice. */
export async function writeSourceManifest(model: string, to: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(repoRoot, 'models', model, 'manifest.json'), 'utf8'));
  manifest.versions = manifest.versions.filter((v: { source?: unknown }) => v.source);
  delete manifest.serving;
  await writeFile(to, JSON.stringify(manifest, null, 2));
}

/** Writes `<root>/models/<model>/` for each model: its source manifest (above) and `files`, copied from the synced tree. */
export async function scratchModelFolders(root: string, files: Readonly<Record<string, readonly string[]>>): Promise<void> {
  for (const [model, names] of Object.entries(files)) {
    const dir = join(root, 'models', model);
    await mkdir(dir, { recursive: true });
    await writeSourceManifest(model, join(dir, 'manifest.json'));
    for (const name of names) await cp(join(repoRoot, 'models', model, name), join(dir, name));
  }
}
