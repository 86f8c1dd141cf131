// The printed-text OCR evaluation images (test/fixtures/evaluation/ocr-printed/, made by
// render-ocr-sets.ts) with the lines printed in each, grouped by the set named before `--` in the file
// name: what `models evaluate`, bench/ocr-settings.ts and bench:tasks read OCR against.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const printedSetDir = 'test/fixtures/evaluation/ocr-printed';

export interface PrintedImage {
  /** The set it belongs to: lines, jpeg, pages, dense, table, noise. */
  set: string;
  file: string;
  path: string;
  bytes: Uint8Array;
  printed: readonly string[];
}

export async function printedImages(repoRoot: string): Promise<PrintedImage[]> {
  const dir = join(repoRoot, printedSetDir);
  const truth: Record<string, string[]> = JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8'));
  const files = (await readdir(dir)).filter((f) => /\.(png|jpg)$/.test(f)).sort();
  const missing = files.filter((f) => !truth[f]);
  if (missing.length) throw new Error(`${printedSetDir}/truth.json has no printed lines for ${missing.join(', ')}`);
  return Promise.all(
    files.map(async (file) => ({
      set: file.slice(0, file.indexOf('--')),
      file,
      path: join(dir, file),
      bytes: new Uint8Array(await readFile(join(dir, file))),
      printed: truth[file]!,
    })),
  );
}
