// Writes a manifest's "serving" object, leaving the rest of the hand-formatted file as it was.

import { readFile, writeFile } from 'node:fs/promises';
import { parseManifest, type Manifest } from '../../../models/manifest.ts';

export async function setServing(manifestPath: string, serving: NonNullable<Manifest['serving']>): Promise<void> {
  const text = await readFile(manifestPath, 'utf8');
  const rendered = `"serving": { ${Object.entries(serving)
    .map(([tier, version]) => `"${tier}": ${JSON.stringify(version)}`)
    .join(', ')} }`;
  // "serving" holds two slugs and no nested object: its value ends at the first '}'.
  const existing = /"serving":\s*\{[^}]*\}/.exec(text);
  let next: string;
  if (existing) next = text.slice(0, existing.index) + rendered + text.slice(existing.index + existing[0].length);
  else {
    const anchor = /\n(\s*)"defaultVersion":[^\n]*\n/.exec(text);
    if (!anchor) throw new Error(`${manifestPath}: no "defaultVersion" line to put "serving" after`);
    const at = anchor.index + anchor[0].length;
    next = `${text.slice(0, at)}${anchor[1]}${rendered},\n${text.slice(at)}`;
  }
  parseManifest(JSON.parse(next), manifestPath); // never write a manifest the registry would refuse
  await writeFile(manifestPath, next);
}
