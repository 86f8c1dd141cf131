// The recognisers' dictionaries, read beside their weights at start-up and verified by the sha256 in
// their manifest. A missing or altered file leaves that version without one: the OCR task then
// answers 503 naming why, and every other route keeps serving.

import { readFile } from 'node:fs/promises';
import { IntegrityError, verifyLabels } from '../models/integrity.ts';
import { type Dictionary, parseDictionary } from '../models/tasks/ocr/dictionary.ts';
import type { BackendModel } from './registry.ts';

/** Dictionaries by model key (`name@version`), for every served version that has labels. */
export async function loadDictionaries(models: readonly BackendModel[], log: (line: string) => void): Promise<Map<string, Dictionary>> {
  const dictionaries = new Map<string, Dictionary>();
  for (const model of models) {
    if (!model.labelsPath) continue;
    try {
      const text = await verifyLabels(model.manifest, model.version, new Uint8Array(await readFile(model.labelsPath)));
      const classes = model.manifest.outputs[0]?.shape.at(-1);
      dictionaries.set(model.key, parseDictionary(text, classes === -1 ? undefined : classes));
    } catch (err) {
      const reason = err instanceof IntegrityError ? err.message : `cannot read ${model.labelsPath}: ${(err as Error).message}`;
      log(`refusing the labels of ${model.key}: ${reason}`);
    }
  }
  return dictionaries;
}
