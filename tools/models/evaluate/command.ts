// `npm run models -- evaluate <model> <version>`: the accuracy gate. Runs the model's task pipeline on a
// held evaluation set with the derived version and with its float32 source, prints the task-level
// figures, and writes them into the version's manifest entry; a version past its model's budget is
// recorded as failed (never served) and the command exits non-zero naming each figure that missed.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadModelFolders, type ModelFolder } from '../../../models/catalog-fs.ts';
import type { Evaluation, ModelVersion } from '../../../models/manifest.ts';
import { parseDictionary } from '../../../models/tasks/ocr/index.ts';
import { upsertVersion } from '../quantize/manifest-edit.ts';
import { describeMiss, judge, type Verdict } from './budget.ts';
import { evaluationHash, evaluationSetFor } from './evaluation-sets.ts';
import type { Figures } from './figures.ts';
import { runEvaluationSet } from './run-set.ts';

/** The evaluator's version: figures from another version are not comparable and are measured again. */
export const evaluatorVersion = '2';

export const evaluateUsage = 'usage: npm run models -- evaluate <model> <version>   (a quantized version; see `models quantize`)';

export interface EvaluateOptions {
  repoRoot: string;
  modelsDir: string;
  log: (line: string) => void;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function readVersionBytes(folder: ModelFolder, version: ModelVersion): Promise<Uint8Array> {
  const path = join(folder.dir, version.file);
  const bytes = await readFile(path).then(
    (b) => new Uint8Array(b),
    () => {
      throw new Error(`${path} is missing: run \`npm run models -- sync\` first`);
    },
  );
  if (sha256Hex(bytes) !== version.sha256) throw new Error(`${path} does not match its manifest's sha256: run \`npm run models -- sync\``);
  return bytes;
}

/** The npm-sourced version a derived version came from, or a model's float32 default. */
export function floatVersionOf(folder: ModelFolder, derived?: ModelVersion): ModelVersion {
  const name = derived?.quantization?.sourceVersion ?? folder.manifest.defaultVersion;
  const found = folder.manifest.versions.find((v) => v.version === name && v.source);
  const fallback = folder.manifest.versions.find((v) => v.source);
  if (!found && !fallback) throw new Error(`model '${folder.manifest.name}' has no npm-sourced version`);
  return (found ?? fallback)!;
}

export interface EvaluationOutcome {
  figures: Figures;
  verdict: Verdict;
  evaluation: Evaluation;
}

/** Measures `candidate` (bytes of a version of `folder`'s model derived from `source`) on its evaluation set. */
export async function evaluateCandidate(
  folders: readonly ModelFolder[],
  folder: ModelFolder,
  source: ModelVersion,
  candidate: Uint8Array,
  options: EvaluateOptions,
): Promise<EvaluationOutcome> {
  const model = folder.manifest.name;
  const budget = folder.manifest.accuracy;
  if (!budget || Object.values(budget).every((v) => v === undefined))
    throw new Error(`model '${model}' has no accuracy budget: set "accuracy" in its manifest.json`);
  const set = evaluationSetFor(model);
  const floatModels = new Map<string, Uint8Array>();
  const declaredOutputs = new Map<string, string[]>();
  let dictionary: ReturnType<typeof parseDictionary> | undefined;
  for (const name of set.models) {
    const f = folders.find((x) => x.manifest.name === name);
    if (!f) throw new Error(`evaluation set '${set.name}' runs '${name}', which is not registered`);
    const v = name === model ? source : floatVersionOf(f);
    floatModels.set(name, await readVersionBytes(f, v));
    declaredOutputs.set(
      name,
      f.manifest.outputs.map((o) => o.name),
    );
    if (v.labels) dictionary = parseDictionary(await readFile(join(f.dir, v.labels.file), 'utf8'));
  }
  const figures = await runEvaluationSet(set, {
    repoRoot: options.repoRoot,
    target: model,
    candidate,
    floatModels,
    declaredOutputs,
    dictionary,
    log: options.log,
  });
  const verdict = judge(figures, budget);
  const evaluation: Evaluation = {
    set: set.name,
    sha256: await evaluationHash(set, options.repoRoot),
    figures,
    passed: verdict.passed,
    toolVersion: evaluatorVersion,
  };
  return { figures, verdict, evaluation };
}

export function formatFigures(figures: Figures): string {
  return Object.entries(figures)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(', ');
}

export async function evaluateCommand(args: string[], options: EvaluateOptions): Promise<void> {
  const [modelName, versionName, ...rest] = args;
  if (!modelName || !versionName || rest.length > 0) throw new Error(`name a model and a version\n${evaluateUsage}`);
  const folders = await loadModelFolders(options.modelsDir);
  const folder = folders.find((f) => f.manifest.name === modelName);
  if (!folder) throw new Error(`no model '${modelName}'; models: ${folders.map((f) => f.manifest.name).join(', ')}`);
  const version = folder.manifest.versions.find((v) => v.version === versionName);
  if (!version)
    throw new Error(
      `model '${modelName}' has no version '${versionName}'; versions: ${folder.manifest.versions.map((v) => v.version).join(', ')}`,
    );
  if (!version.quantization)
    throw new Error(`version '${versionName}' of '${modelName}' is its npm-sourced original: evaluate a quantized version of it`);
  const source = floatVersionOf(folder, version);
  const started = performance.now();
  options.log(`Evaluating ${modelName}@${versionName} against ${source.version} on '${evaluationSetFor(modelName).name}'`);
  const outcome = await evaluateCandidate(folders, folder, source, await readVersionBytes(folder, version), options);
  const manifestPath = join(folder.dir, 'manifest.json');
  await upsertVersion(manifestPath, { ...version, evaluation: outcome.evaluation });
  options.log(`  figures: ${formatFigures(outcome.figures)}`);
  options.log(`  budget:  ${JSON.stringify(folder.manifest.accuracy)}`);
  options.log(
    `Wrote the evaluation of '${versionName}' to ${relative(options.repoRoot, manifestPath)} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  if (!outcome.verdict.passed) {
    throw new Error(
      `${modelName}@${versionName} failed its accuracy gate and will not be served:\n  ${outcome.verdict.misses.map(describeMiss).join('\n  ')}`,
    );
  }
  options.log(`${modelName}@${versionName} passed its accuracy gate: servable`);
}
