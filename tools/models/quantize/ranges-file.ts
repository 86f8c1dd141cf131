// The activation ranges of a static-qdq version, stored as a committed sidecar JSON next to the
// manifest, so `models sync` re-derives the version without the calibration inputs or a runtime.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const RangesFile = z.object({
  calibrationSet: z.string(),
  calibrationSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Tensor name (in the prepared float model) → [min, max] seen over the whole set. */
  ranges: z.record(z.string(), z.tuple([z.number(), z.number()])),
});
export type RangesFile = z.infer<typeof RangesFile>;
export type Ranges = ReadonlyMap<string, readonly [number, number]>;

/** Stable JSON: tensors in name order, so the sidecar's bytes depend on its content alone. */
export function renderRanges(file: RangesFile): string {
  const ranges = Object.fromEntries(
    Object.keys(file.ranges)
      .sort()
      .map((k) => [k, file.ranges[k]!]),
  );
  return `${JSON.stringify({ ...file, ranges }, null, 2)}\n`;
}

export async function readRanges(path: string): Promise<RangesFile> {
  return RangesFile.parse(JSON.parse(await readFile(path, 'utf8')));
}

export function rangesPath(modelDir: string, version: string): string {
  return join(modelDir, `${version}.ranges.json`);
}
