// `npm run bench:quant`: every version of every model, side by side in one run: its size, its median
// latency in the edge's runtime (onnxruntime-web WASM, one thread, in Node) and the backend's
// (onnxruntime-node CPU, one thread) on the task's real inputs, its speed against float32 in the same
// runtime, and its accuracy figure from `models evaluate` (recorded in the manifest, on the held set).
// Where no derived version of a model passes its gate, the best one tried is named with why it failed.
//
// Goals (issue 7): a quantized det and rec that pass their gates at ≤ 35% of float32's bytes, served at
// the edge ≥ 1.2× faster than float32 WASM.

import { join } from 'node:path';
import { loadModelFolders, type ModelFolder } from '../models/catalog-fs.ts';
import { isServable, type ModelVersion } from '../models/manifest.ts';
import { judge } from '../tools/models/evaluate/budget.ts';
import { readVersionBytes } from '../tools/models/evaluate/command.ts';
import { createRunner, type Runner } from '../tools/models/tune/runtimes.ts';
import { captureTaskInputs } from '../tools/models/tune/task-inputs.ts';
import { interleave, printTable } from './lib/stats.ts';

const repoRoot = join(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const schedule = quick ? { warmup: 1, rounds: 3, perRound: 2 } : { warmup: 2, rounds: 6, perRound: 3 };
/** `--only <model>` measures one model. */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

/** The figure a model's accuracy is read by first: lines for OCR, frames for VAD. */
function headlineFigure(version: ModelVersion): string {
  const figures = version.evaluation?.figures;
  if (!figures) return version.quantization ? 'not evaluated' : 'reference';
  if ('exactLineShare' in figures)
    return `${Math.round(figures.exactLineShare! * figures.lines!)}/${figures.lines} lines exact (${Math.round(figures.exactLineShareIgnoringSpaces! * figures.lines!)} ignoring spaces), CER ${(100 * figures.characterErrorRate!).toFixed(2)}%, IoU ${figures.meanBoxIoU!.toFixed(3)}${figures.printedLineShareCandidate === undefined ? '' : `; as printed: ${Math.round(figures.printedLineShareCandidate * figures.lines!)}/${figures.lines} (fp32 ${Math.round(figures.printedLineShareSource! * figures.lines!)})`}`;
  return `frames agree ${(100 * figures.frameAgreement!).toFixed(1)}%, boundary shift ${figures.boundaryShiftMs} ms`;
}

function verdict(folder: ModelFolder, version: ModelVersion): string {
  if (!version.quantization) return 'source';
  if (!version.evaluation) return 'not evaluated';
  if (version.evaluation.passed) return 'passed';
  const misses = judge(version.evaluation.figures, folder.manifest.accuracy ?? {}).misses;
  return `failed: ${misses.map((m) => `${m.figure} ${+m.value.toFixed(4)} ${m.budget.startsWith('min') ? '<' : '>'} ${m.limit}`).join(', ')}`;
}

async function main(): Promise<void> {
  const folders = (await loadModelFolders(join(repoRoot, 'models'))).filter((f) => !only || f.manifest.name === only);
  const rows: (string | number)[][] = [];
  const summaries: string[] = [];
  const goals: string[] = [];
  for (const folder of folders) {
    const model = folder.manifest.name;
    process.stderr.write(`measuring ${model}…\n`);
    const inputs = await captureTaskInputs(await loadModelFolders(join(repoRoot, 'models')), model, repoRoot);
    const fp32 = folder.manifest.versions.find((v) => v.source)!;
    const runners = new Map<string, { edge: Runner; gpu: Runner }>();
    for (const v of folder.manifest.versions) {
      const bytes = await readVersionBytes(folder, v);
      runners.set(v.version, { edge: await createRunner('edge', bytes, inputs), gpu: await createRunner('gpu', bytes, inputs) });
    }
    const contenders = Object.fromEntries(
      [...runners].flatMap(([v, r]) => [
        [`${v}|edge`, () => r.edge.runAll()],
        [`${v}|gpu`, () => r.gpu.runAll()],
      ]),
    );
    const results = await interleave(contenders, schedule);
    for (const r of runners.values()) await Promise.all([r.edge.release(), r.gpu.release()]);
    const p50 = (v: string, tier: string) => results[`${v}|${tier}`]!.p50;
    for (const v of folder.manifest.versions) {
      const serves = (['edge', 'gpu'] as const).filter((t) => folder.manifest.serving?.[t] === v.version).join(', ');
      rows.push([
        model,
        v.version,
        v.quantization?.mode ?? 'float32',
        (v.bytes / 1e6).toFixed(2),
        `${((100 * v.bytes) / fp32.bytes).toFixed(0)}%`,
        p50(v.version, 'edge'),
        `${(p50(fp32.version, 'edge') / p50(v.version, 'edge')).toFixed(2)}×`,
        p50(v.version, 'gpu'),
        `${(p50(fp32.version, 'gpu') / p50(v.version, 'gpu')).toFixed(2)}×`,
        headlineFigure(v),
        verdict(folder, v),
        serves || '-',
      ]);
    }
    const derived = folder.manifest.versions.filter((v) => v.quantization);
    if (model === 'paddleocr-det' || model === 'paddleocr-rec') {
      const edgeSpeedup = (v: ModelVersion) => p50(fp32.version, 'edge') / p50(v.version, 'edge');
      const small = derived.filter((v) => v.bytes <= 0.35 * fp32.bytes);
      const met = small.filter((v) => isServable(v) && edgeSpeedup(v) >= 1.2);
      const servedMet = met.some((v) => v.version === folder.manifest.serving?.edge);
      goals.push(
        `  ${model}: ${servedMet ? 'MET' : 'NOT MET'} — ${met.length ? `passing at ≤ 35% and ≥ 1.2×: ${met.map((v) => v.version).join(', ')}` : `of the ${small.length} versions at ≤ 35% of the bytes none passes (${small.map((v) => `${v.version} ${edgeSpeedup(v).toFixed(2)}× WASM, ${verdict(folder, v)}`).join('; ')})`}`,
      );
    }
    const passing = derived.filter(isServable);
    const edge = folder.manifest.serving?.edge ?? folder.manifest.defaultVersion;
    const edgeVersion = folder.manifest.versions.find((v) => v.version === edge)!;
    if (passing.length === 0 && derived.length > 0) {
      const score = (v: ModelVersion) => v.evaluation?.figures.exactLineShare ?? v.evaluation?.figures.frameAgreement ?? -1;
      const best = derived.reduce((a, b) => (score(b) > score(a) || (score(b) === score(a) && b.bytes < a.bytes) ? b : a));
      summaries.push(
        `${model}: no derived version passes; best tried ${best.version} (${((100 * best.bytes) / fp32.bytes).toFixed(0)}% of the bytes): ${verdict(folder, best)}`,
      );
    } else {
      const smallest = passing.reduce<ModelVersion | undefined>((a, b) => (!a || b.bytes < a.bytes ? b : a), undefined);
      summaries.push(
        `${model}: ${passing.length}/${derived.length} derived versions pass${smallest ? `; smallest passing ${smallest.version} at ${((100 * smallest.bytes) / fp32.bytes).toFixed(0)}% of the bytes, ${(p50(fp32.version, 'edge') / p50(smallest.version, 'edge')).toFixed(2)}× float32 WASM` : ''}; the edge serves ${edge} (${((100 * edgeVersion.bytes) / fp32.bytes).toFixed(0)}%, ${(p50(fp32.version, 'edge') / p50(edge, 'edge')).toFixed(2)}× float32 WASM), the backend ${folder.manifest.serving?.gpu ?? folder.manifest.defaultVersion}`,
      );
    }
  }
  printTable(
    `Versions per model: median ms per set of task inputs (one evaluation file through the pipeline), ${schedule.rounds}×${schedule.perRound} interleaved samples`,
    [
      'model',
      'version',
      'mode',
      'MB',
      'of fp32',
      'WASM p50',
      'WASM vs fp32',
      'native p50',
      'native vs fp32',
      'accuracy (vs fp32, held set)',
      'gate',
      'serves',
    ],
    rows,
  );
  console.log(`\n${summaries.join('\n')}`);
  console.log(
    `\nGoals (det and rec: a derived version passing its gate at ≤ 35% of float32's bytes, served at the edge ≥ 1.2× faster than float32 WASM):\n${goals.join('\n')}`,
  );
}

await main();
