import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedBackend, startTestBackend } from '../support/backend.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { findVersion, type ModelVersion } from '../../models/manifest.ts';
import { repoRoot } from '../support/edge-worker.ts';
import { tensor } from '../support/infer.ts';

let modelsDir: string;
let server: StartedBackend;
/** The detector version the backend answers with by default: the one a caller meets. */
let served: ModelVersion;
beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'edgeinfer-tampered-'));
  await cp(join(repoRoot, 'models'), modelsDir, { recursive: true });
  const det = (await loadModelFolders(modelsDir)).find((f) => f.manifest.name === 'paddleocr-det')!;
  served = findVersion(det.manifest, undefined, 'gpu')!;
  const weights = join(det.dir, served.file);
  const bytes = await readFile(weights);
  bytes[bytes.length >> 1]! ^= 0x01;
  await writeFile(weights, bytes);
  server = await startTestBackend({ MODELS_DIR: modelsDir });
});
afterAll(async () => {
  await server?.stop();
  if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
});

describe('a model whose weights fail sha256', () => {
  it('is reported unavailable, with the reason, by its ready route', async () => {
    const res = await server.fetch('/v2/models/paddleocr-det/ready');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/unavailable: its weights failed sha256 verification/);
    expect(server.logs.join('\n')).toMatch(
      new RegExp(`paddleocr-det@${served.version} unavailable: .*expected sha256 ${served.sha256.slice(0, 8)}`),
    );
  });

  it('answers inference with 503 JSON', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-det/infer', {
      inputs: [tensor('x', 'FP32', [1, 3, 32, 32], new Float32Array(3 * 32 * 32))],
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/paddleocr-det/);
  });

  it('leaves the other models serving and the server ready', async () => {
    expect((await server.fetch('/v2/health/ready')).status).toBe(200);
    expect((await server.fetch('/v2/models/paddleocr-rec/ready')).status).toBe(200);
    const res = await server.signedPost('/v2/models/paddleocr-rec/infer', {
      inputs: [tensor('x', 'FP32', [1, 3, 48, 8], new Float32Array(3 * 48 * 8))],
    });
    expect(res.status).toBe(200);
  });
});
