// Adds or replaces one version in a manifest.json, rewriting only its "versions" array so the rest of
// the hand-formatted file (one-line tensor specs) is left as it was.

import { readFile, writeFile } from 'node:fs/promises';
import { parseManifest, type ModelVersion } from '../../../models/manifest.ts';

/** The text span of the JSON array that follows `"key":` (brackets inside strings are skipped). */
function arraySpan(text: string, key: string): [number, number] {
  const keyAt = text.indexOf(`"${key}"`);
  const start = keyAt < 0 ? -1 : text.indexOf('[', keyAt);
  if (start < 0) throw new Error(`no "${key}" array`);
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && --depth === 0) return [start, i + 1];
  }
  throw new Error(`unterminated "${key}" array`);
}

/**
 * Adds `version`, or replaces the version of that name. A replacement with the same bytes keeps its
 * evaluation (the gate measured exactly these bytes); one with other bytes loses it, and is refused
 * while a tier serves it: its gate must be passed again first.
 */
export async function upsertVersion(manifestPath: string, version: ModelVersion): Promise<void> {
  const text = await readFile(manifestPath, 'utf8');
  const raw = JSON.parse(text) as { versions: ModelVersion[]; serving?: Record<string, string> };
  const previous = raw.versions.find((v) => v.version === version.version);
  if (previous?.evaluation && previous.sha256 === version.sha256 && !version.evaluation)
    version = { ...version, evaluation: previous.evaluation };
  const servedBy = Object.entries(raw.serving ?? {})
    .filter(([, chosen]) => chosen === version.version)
    .map(([tier]) => tier);
  if (previous && previous.sha256 !== version.sha256 && servedBy.length > 0) {
    throw new Error(
      `version '${version.version}' is served (serving.${servedBy.join(', serving.')}) and these bytes differ from the evaluated ones: ` +
        'write the new variant under another name (--version), or remove it from serving first',
    );
  }
  const versions = raw.versions.filter((v) => v.version !== version.version);
  const at = raw.versions.findIndex((v) => v.version === version.version);
  versions.splice(at < 0 ? versions.length : at, 0, version);
  const [start, end] = arraySpan(text, 'versions');
  const rendered = JSON.stringify(versions, null, 2).replace(/\n/g, '\n  ');
  const next = text.slice(0, start) + rendered + text.slice(end);
  parseManifest(JSON.parse(next), manifestPath); // never write a manifest the registry would refuse
  await writeFile(manifestPath, next);
}
