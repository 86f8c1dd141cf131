// `npm run models -- tune <model>`: times every version that may be served (npm-sourced, or derived
// and passed its accuracy gate) in each tier's runtime, side by side in one run on real task inputs,
// prints the table and records the version each tier serves in the manifest's "serving".

import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelFolders } from '../../../models/catalog-fs.ts';
import { isServable, type AccuracyBudget, type ModelVersion } from '../../../models/manifest.ts';
import { judge } from '../evaluate/budget.ts';
import { readVersionBytes } from '../evaluate/command.ts';
import { chooseServing, noiseShare, type Measured } from './choose.ts';
import { setServing } from './manifest-edit.ts';
import { createRunner, runtimeNames, tunedTiers, type Runner, type TunedTier } from './runtimes.ts';
import { captureTaskInputs } from './task-inputs.ts';

export const tuneUsage = `usage: npm run models -- tune <model>
  [--rounds <n>]     interleaved rounds (default 5)
  [--per-round <n>]  runs of the task inputs per version and tier in each round (default 4)
  [--warmup <n>]     untimed runs per version and tier first (default 2)`;

export interface TuneOptions {
  repoRoot: string;
  modelsDir: string;
  log: (line: string) => void;
}

export interface TuneSchedule {
  rounds: number;
  perRound: number;
  warmup: number;
}

export interface TuneResult {
  measured: Measured[];
  /** Versions left out, and why (failed or never evaluated). */
  skipped: { version: ModelVersion; why: string }[];
  serving: Record<TunedTier, string>;
  inputs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function whyNotServable(version: ModelVersion, budget: AccuracyBudget): string {
  if (!version.evaluation) return 'not evaluated: run `models evaluate` first';
  const misses = judge(version.evaluation.figures, budget).misses;
  return `failed its gate (${misses.map((m) => `${m.figure} ${+m.value.toFixed(4)} ${m.budget.startsWith('min') ? '<' : '>'} ${m.limit}`).join(', ') || 'against an earlier budget: evaluate it again'})`;
}

/**
 * Measures in rounds: each round runs every version in every tier in turn, so a shared machine's drift
 * lands on all of them alike; the median per version and tier is what is compared.
 */
export async function tuneModel(modelName: string, schedule: TuneSchedule, options: TuneOptions): Promise<TuneResult> {
  const folders = await loadModelFolders(options.modelsDir);
  const folder = folders.find((f) => f.manifest.name === modelName);
  if (!folder) throw new Error(`no model '${modelName}'; models: ${folders.map((f) => f.manifest.name).join(', ')}`);
  const candidates = folder.manifest.versions.filter(isServable);
  const skipped = folder.manifest.versions
    .filter((v) => !isServable(v))
    .map((version) => ({ version, why: whyNotServable(version, folder.manifest.accuracy ?? {}) }));
  const inputs = await captureTaskInputs(folders, modelName, options.repoRoot);
  const runners = new Map<string, Record<TunedTier, Runner>>();
  try {
    for (const version of candidates) {
      const bytes = await readVersionBytes(folder, version);
      runners.set(version.version, { edge: await createRunner('edge', bytes, inputs), gpu: await createRunner('gpu', bytes, inputs) });
    }
    const samples = new Map([...runners.keys()].map((v) => [v, { edge: [] as number[], gpu: [] as number[] }]));
    for (const runner of runners.values())
      for (const tier of tunedTiers) for (let i = 0; i < schedule.warmup; i++) await runner[tier].runAll();
    for (let round = 0; round < schedule.rounds; round++) {
      for (const [version, runner] of runners) {
        for (const tier of tunedTiers) {
          for (let i = 0; i < schedule.perRound; i++) {
            const started = performance.now();
            await runner[tier].runAll();
            samples.get(version)![tier].push(performance.now() - started);
          }
        }
      }
    }
    const measured: Measured[] = candidates.map((v) => ({
      version: v.version,
      bytes: v.bytes,
      medianMs: { edge: median(samples.get(v.version)!.edge), gpu: median(samples.get(v.version)!.gpu) },
    }));
    return { measured, skipped, serving: chooseServing(measured), inputs: inputs.length };
  } finally {
    for (const runner of runners.values()) for (const tier of tunedTiers) await runner[tier].release();
  }
}

export function tuneTable(result: TuneResult): string[] {
  const reference = result.measured[0]!;
  const rows = [
    ['version', 'bytes', 'edge ms', 'edge vs first', 'backend ms', 'backend vs first', 'serves'],
    ...result.measured.map((m) => [
      m.version,
      String(m.bytes),
      m.medianMs.edge.toFixed(2),
      `${(reference.medianMs.edge / m.medianMs.edge).toFixed(2)}×`,
      m.medianMs.gpu.toFixed(2),
      `${(reference.medianMs.gpu / m.medianMs.gpu).toFixed(2)}×`,
      tunedTiers.filter((t) => result.serving[t] === m.version).join(', ') || '-',
    ]),
    ...result.skipped.map((s) => [s.version.version, String(s.version.bytes), '-', '-', '-', '-', `never: ${s.why}`]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
}

export async function tuneCommand(args: string[], options: TuneOptions): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { rounds: { type: 'string' }, 'per-round': { type: 'string' }, warmup: { type: 'string' } },
  });
  const [modelName] = positionals;
  if (!modelName || positionals.length > 1) throw new Error(`name one model\n${tuneUsage}`);
  const count = (flag: string, fallback: number, min: number) => {
    const raw = values[flag as keyof typeof values];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer ≥ ${min}, not '${raw}'`);
    return n;
  };
  const schedule = { rounds: count('rounds', 5, 1), perRound: count('per-round', 4, 1), warmup: count('warmup', 2, 0) };
  options.log(
    `Tuning ${modelName}: edge = ${runtimeNames.edge}; backend = ${runtimeNames.gpu}; ${schedule.rounds}×${schedule.perRound} interleaved runs of its task inputs per version and tier`,
  );
  const result = await tuneModel(modelName, schedule, options);
  options.log(
    `  task inputs: ${result.inputs} run(s) of ${modelName} per sample (one file of its evaluation set, as its pipeline feeds it)`,
  );
  for (const line of tuneTable(result)) options.log(line);
  const manifestPath = join(options.modelsDir, modelName, 'manifest.json');
  await setServing(manifestPath, result.serving);
  options.log(
    `Serving: edge ${result.serving.edge} (smallest within ${noiseShare * 100}% of the fastest), backend ${result.serving.gpu} (fastest); written to ${relative(options.repoRoot, manifestPath)}`,
  );
}
