// Model files are verified against their manifest's sha256 before any session is created from them,
// on every tier. Web Crypto is used because it is the same API in Workers and Node.

import type { Manifest, ModelVersion } from './manifest.ts';

export class IntegrityError extends Error {
  readonly model: string;
  readonly expectedSha256: string;
  readonly actualSha256: string;
  constructor(model: string, version: ModelVersion, actualSha256: string, actualBytes: number) {
    super(
      `model '${model}' version '${version.version}' (${version.file}) failed verification: ` +
        `expected sha256 ${version.sha256} (${version.bytes} bytes), got ${actualSha256} (${actualBytes} bytes)`,
    );
    this.name = 'IntegrityError';
    this.model = model;
    this.expectedSha256 = version.sha256;
    this.actualSha256 = actualSha256;
  }
}

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function verifyWeights(manifest: Manifest, version: ModelVersion, bytes: ArrayBuffer | Uint8Array): Promise<void> {
  const actual = await sha256Hex(bytes);
  if (actual !== version.sha256) throw new IntegrityError(manifest.name, version, actual, bytes.byteLength);
}

/** The labels text of a version, once its bytes match the manifest's sha256; throws IntegrityError otherwise. */
export async function verifyLabels(manifest: Manifest, version: ModelVersion, bytes: Uint8Array): Promise<string> {
  const labels = version.labels;
  if (!labels) throw new Error(`model '${manifest.name}' version '${version.version}' has no labels`);
  const actual = await sha256Hex(bytes);
  if (actual !== labels.sha256)
    throw new IntegrityError(
      manifest.name,
      { ...version, file: labels.file, sha256: labels.sha256, bytes: labels.bytes },
      actual,
      bytes.byteLength,
    );
  return new TextDecoder().decode(bytes);
}
