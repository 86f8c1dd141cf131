// A model whose bytes do not match its manifest's sha256 is refused and never served, while the
// other models of the same Worker keep serving.

import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { edgeCarriedVersion } from '../../models/manifest.ts';
import { renderEdgeBundle } from '../../tools/models/sync.ts';
import { repoRoot, startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

// Inside the project (ignored by git) so wrangler's module rules apply to the copied weights.
const workDir = join(repoRoot, '.wrangler', 'test-tampered-weights');
let edge: RunningWorker;

beforeAll(async () => {
  await rm(workDir, { recursive: true, force: true });
  for (const model of ['silero-vad', 'paddleocr-cls']) {
    await mkdir(join(workDir, 'models'), { recursive: true });
    await cp(join(repoRoot, 'models', model), join(workDir, 'models', model), { recursive: true });
  }
  // The version the edge answers with by default: the one a caller meets.
  const silero = (await loadModelFolders(join(workDir, 'models'))).find((f) => f.manifest.name === 'silero-vad')!;
  const weights = join(silero.dir, edgeCarriedVersion(silero.manifest)!.file);
  const bytes = await readFile(weights);
  const middle = bytes.length >> 1;
  bytes[middle] = bytes[middle]! ^ 0x01; // one flipped bit, deep inside the weights
  await writeFile(weights, bytes);

  const bundlePath = join(workDir, 'models.generated.ts');
  await writeFile(bundlePath, renderEdgeBundle(await loadModelFolders(join(workDir, 'models')), bundlePath));
  const entry = join(workDir, 'entry.ts');
  await writeFile(
    entry,
    [
      `import { createEdgeWorker } from '${join(repoRoot, 'edge', 'worker.ts')}';`,
      "import { bundledModels } from './models.generated.ts';",
      'export default createEdgeWorker(bundledModels);',
      // wrangler.toml binds the jobs' Durable Object class, which every entry of this Worker exports.
      `export { JobObject } from '${join(repoRoot, 'edge', 'jobs', 'job-object.ts')}';`,
    ].join('\n'),
  );
  edge = await startEdgeWorker({ entrypoint: entry });
});
afterAll(async () => {
  await edge?.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe('tampered weights', () => {
  it('refuses inference on the tampered model with a clear 503', async () => {
    const res = await edge.fetch(
      '/v2/models/silero-vad/infer',
      postJson({
        inputs: [
          tensor('input', 'FP32', [1, 576], new Float32Array(576)),
          tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
          tensor('sr', 'INT64', [], [16000]),
        ],
      }),
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/silero-vad.*failed sha256 verification/);
    // One audit line names the model, version and file, and nothing of the weights.
    const audit = edge.logs.filter((line) => line.includes('"event":"model-integrity-failed"')).map((line) => JSON.parse(line));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ audit: true, model: 'silero-vad', tier: 'edge' });
    expect(Object.keys(audit[0]).sort()).toEqual(['at', 'audit', 'event', 'file', 'model', 'tier', 'version']);
  });

  it('reports the tampered model not ready, every time', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await edge.fetch('/v2/models/silero-vad/ready');
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/failed sha256 verification/);
    }
  });

  it('keeps serving the models whose weights verify', async () => {
    const res = await edge.fetch(
      '/v2/models/paddleocr-cls/infer',
      postJson({ inputs: [tensor('x', 'FP32', [1, 3, 48, 192], new Float32Array(3 * 48 * 192))] }),
    );
    expect(res.status).toBe(200);
  });
});
