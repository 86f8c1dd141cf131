// `npm run models -- quantize <model> --mode <mode>`: writes a quantized version of a registered model
// into its folder (weights, static-qdq's ranges sidecar) and adds it to the manifest with its lineage.

import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelFolders, type ModelFolder } from '../../../models/catalog-fs.ts';
import { quantizationModes, type ModelVersion, type Quantization } from '../../../models/manifest.ts';
import { calibrationHash, calibrationSetFor, calibrationSetNamed } from './calibration.ts';
import { collectRanges } from './collect-ranges.ts';
import { upsertVersion } from './manifest-edit.ts';
import { allGraphs } from './onnx-io.ts';
import { createSession } from './ort-run.ts';
import { defaultMinElements, prepare, quantize, toolVersion, type Mode } from './pipeline.ts';
import { rangesPath, renderRanges } from './ranges-file.ts';
import { defaultKeepFloat } from './sensitive.ts';
import { tensorsToCalibrate } from './static-qdq.ts';

export const quantizeUsage = `usage: npm run models -- quantize <model> --mode <${quantizationModes.join('|')}>
  [--from <version>]        version to quantize (default: the default version; must be npm-sourced)
  [--version <name>]        name of the new version (default: <from>-<mode>)
  [--keep-float <a,b|none>] nodes kept in float computation (default: the first and last weight op of each
                            graph for dynamic-uint8 and static-qdq, none for weight-int8 and fp16)
  [--min-elements <n>]      weights smaller than this stay float (default ${defaultMinElements})
  [--calibration <set>]     static-qdq: calibration set (default: the one that drives the model's task)`;

export interface QuantizeCommandOptions {
  repoRoot: string;
  modelsDir: string;
  log: (line: string) => void;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function npmVersionOf(folder: ModelFolder, name?: string): ModelVersion {
  const wanted = name ?? folder.manifest.defaultVersion;
  const version = folder.manifest.versions.find((v) => v.version === wanted);
  if (!version)
    throw new Error(
      `model '${folder.manifest.name}' has no version '${wanted}'; versions: ${folder.manifest.versions.map((v) => v.version).join(', ')}`,
    );
  if (!version.source)
    throw new Error(
      `version '${wanted}' of '${folder.manifest.name}' is itself quantized; quantize its source version ${version.quantization!.sourceVersion}`,
    );
  return version;
}

async function readVerified(folder: ModelFolder, version: ModelVersion): Promise<Uint8Array> {
  const path = join(folder.dir, version.file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new Error(`${path} is missing: run \`npm run models -- sync\` first`);
  }
  if (sha256Hex(bytes) !== version.sha256) throw new Error(`${path} does not match its manifest's sha256: run \`npm run models -- sync\``);
  return bytes;
}

export async function quantizeCommand(args: string[], options: QuantizeCommandOptions): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      mode: { type: 'string' },
      from: { type: 'string' },
      version: { type: 'string' },
      'keep-float': { type: 'string' },
      'min-elements': { type: 'string' },
      calibration: { type: 'string' },
    },
  });
  const [modelName] = positionals;
  const mode = values.mode as Mode | undefined;
  if (!modelName || positionals.length > 1 || !mode || !quantizationModes.includes(mode))
    throw new Error(`${!modelName ? 'name a model' : !mode ? 'name a --mode' : `unknown mode '${values.mode}'`}\n${quantizeUsage}`);
  const minElements = values['min-elements'] === undefined ? defaultMinElements : Number(values['min-elements']);
  if (!Number.isInteger(minElements) || minElements < 1)
    throw new Error(`--min-elements must be a positive integer, not '${values['min-elements']}'`);
  const { log } = options;

  const folders = await loadModelFolders(options.modelsDir);
  const folder = folders.find((f) => f.manifest.name === modelName);
  if (!folder) throw new Error(`no model '${modelName}'; models: ${folders.map((f) => f.manifest.name).join(', ')}`);
  const from = npmVersionOf(folder, values.from);
  const source = await readVerified(folder, from);
  const versionName = values.version ?? `${from.version}-${mode}`;
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  log(`Quantizing ${modelName}@${from.version} (${from.file}, ${source.length} bytes) → ${versionName} (${mode})`);

  const prepared = prepare(source).model;
  const keepFloat =
    values['keep-float'] === undefined
      ? mode === 'dynamic-uint8' || mode === 'static-qdq'
        ? defaultKeepFloat(prepared)
        : []
      : values['keep-float'] === 'none'
        ? []
        : values['keep-float']
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
  const nodeNames = new Set(allGraphs(prepared.graph).flatMap((g) => g.node.map((n) => n.name)));
  const unknown = keepFloat.filter((n) => !nodeNames.has(n));
  if (unknown.length > 0) throw new Error(`--keep-float names no node of ${modelName}: ${unknown.join(', ')}`);
  log(`  float kept: ${keepFloat.join(', ') || 'none'}`);

  let calibration: Quantization['calibration'];
  let ranges: Map<string, [number, number]> | undefined;
  if (mode === 'static-qdq') {
    const set = values.calibration ? calibrationSetNamed(values.calibration) : calibrationSetFor(modelName);
    const floatFiles = new Map<string, string>();
    const declaredOutputs = new Map<string, string[]>();
    for (const name of set.models) {
      const f = folders.find((x) => x.manifest.name === name);
      if (!f) throw new Error(`calibration set '${set.name}' runs '${name}', which is not registered`);
      const v = name === modelName ? from : npmVersionOf(f);
      await readVerified(f, v);
      floatFiles.set(name, join(f.dir, v.file));
      declaredOutputs.set(
        name,
        f.manifest.outputs.map((o) => o.name),
      );
    }
    const tensors = tensorsToCalibrate(prepared, { minElements, keepFloat: new Set(keepFloat) });
    log(`  calibrating ${tensors.size} activation tensors on '${set.name}' (${set.dir})`);
    ranges = await collectRanges(modelName, prepared, tensors, set, { repoRoot: options.repoRoot, floatFiles, declaredOutputs, log });
    const sha256 = await calibrationHash(set, options.repoRoot);
    const rangesFile = rangesPath(folder.dir, versionName);
    await writeFile(rangesFile, renderRanges({ calibrationSet: set.name, calibrationSha256: sha256, ranges: Object.fromEntries(ranges) }));
    calibration = { set: set.name, sha256, ranges: basename(rangesFile) };
    log(`  ${ranges.size} ranges measured (${elapsed()}), written to ${relative(options.repoRoot, rangesFile)}`);
  }

  // The ranges are float32 values, which JSON carries exactly: sync, reading the sidecar, gets these bytes.
  const result = quantize(source, { mode, keepFloat, minElements, ranges });
  for (const step of result.steps) log(`  ${step}`);
  const session = await createSession(result.bytes).catch((err: Error) => {
    throw new Error(`the quantized model does not load in onnxruntime-node, nothing written: ${err.message}`);
  });
  await session.release();

  // Named for the mode when the version has its default name, else for the version: variants of one
  // mode (other float-kept layers) live side by side.
  const file = `${basename(from.file, '.onnx')}.${versionName === `${from.version}-${mode}` ? mode : versionName}.onnx`;
  const target = join(folder.dir, file);
  await writeFile(`${target}.partial`, result.bytes);
  await rename(`${target}.partial`, target);
  const version: ModelVersion = {
    version: versionName,
    file,
    sha256: sha256Hex(result.bytes),
    bytes: result.bytes.length,
    quantization: {
      mode,
      sourceVersion: from.version,
      sourceSha256: from.sha256,
      ...(calibration ? { calibration } : {}),
      keepFloat,
      minElements,
      toolVersion,
    },
    // The outputs mean what the source's mean: a recogniser's classes are read with the same labels.
    ...(from.labels ? { labels: from.labels } : {}),
  };
  await upsertVersion(join(folder.dir, 'manifest.json'), version);
  log(
    `Wrote ${relative(options.repoRoot, target)}: ${result.bytes.length} bytes (${((100 * result.bytes.length) / source.length).toFixed(1)}% of ${from.version}), sha256 ${version.sha256} (${elapsed()})`,
  );
  log(`Added version '${versionName}' to ${relative(options.repoRoot, join(folder.dir, 'manifest.json'))}`);
}
