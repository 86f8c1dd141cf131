// `models sync` for quantized versions: weights are never committed, so each quantized version is
// re-derived from its source version with the lineage in its manifest (and, for static-qdq, the
// committed ranges file) and must come out with the manifest's sha256, byte for byte.

import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFolder } from '../../../models/catalog-fs.ts';
import type { ModelVersion } from '../../../models/manifest.ts';
import { quantize, toolVersion } from './pipeline.ts';
import { readRanges } from './ranges-file.ts';

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    return undefined;
  }
}

/** The bytes `version` (a quantized version of `folder`'s model) must have, derived from its source. */
export async function deriveVersion(folder: ModelFolder, version: ModelVersion): Promise<Uint8Array> {
  const lineage = version.quantization;
  const label = `model '${folder.manifest.name}' version '${version.version}'`;
  if (!lineage) throw new Error(`${label} is not a quantized version`);
  if (lineage.toolVersion !== toolVersion) {
    throw new Error(
      `${label} was written by quantizer version ${lineage.toolVersion}, this is ${toolVersion}: run \`npm run models -- quantize\` again for it`,
    );
  }
  const source = folder.manifest.versions.find((v) => v.version === lineage.sourceVersion)!;
  const sourceBytes = await readIfPresent(join(folder.dir, source.file));
  if (!sourceBytes || sha256Hex(sourceBytes) !== lineage.sourceSha256) {
    throw new Error(
      `${label}: its source ${source.file} is missing or is not sha256 ${lineage.sourceSha256}; sync the source version first`,
    );
  }
  let ranges: Map<string, [number, number]> | undefined;
  if (lineage.calibration) {
    const file = await readRanges(join(folder.dir, lineage.calibration.ranges));
    if (file.calibrationSha256 !== lineage.calibration.sha256) {
      throw new Error(
        `${label}: ${lineage.calibration.ranges} was measured on calibration data ${file.calibrationSha256}, the manifest names ${lineage.calibration.sha256}`,
      );
    }
    ranges = new Map(Object.entries(file.ranges));
  }
  return quantize(sourceBytes, { mode: lineage.mode, keepFloat: lineage.keepFloat, minElements: lineage.minElements, ranges }).bytes;
}

/** Derives every quantized version of the folder whose file is missing or stale, checking each sha256. */
export async function deriveQuantizedVersions(folder: ModelFolder, log: (line: string) => void): Promise<void> {
  for (const version of folder.manifest.versions) {
    if (!version.quantization) continue;
    const target = join(folder.dir, version.file);
    const existing = await readIfPresent(target);
    if (existing && sha256Hex(existing) === version.sha256) {
      log(`  ${folder.manifest.name}@${version.version}: ${version.file} verified`);
      continue;
    }
    const bytes = await deriveVersion(folder, version);
    const actual = sha256Hex(bytes);
    if (actual !== version.sha256) {
      throw new Error(
        `model '${folder.manifest.name}' version '${version.version}': re-deriving ${version.file} (${version.quantization.mode} of ${version.quantization.sourceVersion}) gave other bytes\n` +
          `  expected sha256 ${version.sha256}\n  actual   sha256 ${actual}`,
      );
    }
    const partial = `${target}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, target);
    log(
      `  ${folder.manifest.name}@${version.version}: derived ${version.file} (${bytes.length} bytes, ${version.quantization.mode} of ${version.quantization.sourceVersion})`,
    );
  }
}
