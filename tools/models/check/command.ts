// `npm run models -- check`: measures the edge as it would deploy (bundle, start-up, every carried
// model's session in onnxruntime-web) and fails, naming what does not fit and by how much, when the
// edge would not fit Workers' limits.

import { join } from 'node:path';
import { vadTask } from '../../../models/tasks/catalog.ts';
import { buildBundle, bundleSize } from './bundle-size.ts';
import { decide, type EdgeFigures } from './decide.ts';
import { carriedModels } from './edge-models.ts';
import { firstInputs } from './first-inputs.ts';
import { workersLimits } from './limits.ts';
import { formatReport, type Report } from './report.ts';
import { measureSessionCosts } from './session-cost.ts';
import { measureStartup } from './startup.ts';

export interface CheckOptions {
  repoRoot: string;
  /** Progress lines while it measures (building the bundle takes a while). */
  log: (line: string) => void;
  requestHeadroomBytes?: number;
}

/**
 * Memory kept free for requests in flight: one of each edge task at its edge limit at once. A VAD
 * request of `edgeMaxAudioSeconds` at 16 kHz holds its 16-bit WAV body and the float32 samples; an
 * OCR image at det's largest input (960 × 960) holds its RGB pixels and det's float32 planes.
 */
export const defaultRequestHeadroomBytes = (() => {
  const seconds = vadTask.routing?.edgeMaxAudioSeconds ?? vadTask.limits.maxAudioSeconds;
  const vad = seconds * 16_000 * (2 + 4);
  const ocrPixels = 960 * 960;
  const ocr = ocrPixels * 3 + ocrPixels * 3 * 4;
  return vad + ocr;
})();

export async function runCheck(options: CheckOptions): Promise<Report> {
  const { repoRoot, log } = options;
  log('building the edge bundle (wrangler deploy --dry-run)…');
  const built = await buildBundle(repoRoot);
  let bundle: Awaited<ReturnType<typeof bundleSize>>;
  let startup: Awaited<ReturnType<typeof measureStartup>>;
  try {
    bundle = await bundleSize(built.outdir);
    log('measuring start-up (parse, WebAssembly compile)…');
    startup = await measureStartup(built.outdir);
  } finally {
    await built.remove();
  }

  const models = await carriedModels(join(repoRoot, 'models'));
  log(
    `the edge carries ${models.map((m) => `${m.manifest.name}@${m.version.version}`).join(', ') || 'no model'}; building their first inputs…`,
  );
  const inputs = await firstInputs(models, repoRoot);
  log('measuring sessions in onnxruntime-web…');
  const costs = await measureSessionCosts(models, inputs, log);

  const figures: EdgeFigures = {
    script: bundle,
    startupMs: startup.totalMs,
    runtime: { wasmInitialBytes: costs.runtimeWasmBytes, heapTopBytes: costs.runtimeHeapTopBytes, jsBytes: costs.runtimeJsBytes },
    models: costs.models.map((cost, i) => ({ ...cost, weightsBytes: models[i]!.weightsBytes, labelsBytes: models[i]!.labelsBytes })),
    requestHeadroomBytes: options.requestHeadroomBytes ?? defaultRequestHeadroomBytes,
  };
  return {
    bundle,
    startup,
    runtime: { ...figures.runtime, initCpuMs: costs.runtimeInitCpuMs, finalWasmBytes: costs.finalWasmBytes },
    models: figures.models.map((m, i) => ({
      ...m,
      input: Object.entries(costs.models[i]!.inputShapes)
        .map(([name, shape]) => `${name} [${shape.join(',')}]`)
        .join(' '),
    })),
    verdict: decide(figures, workersLimits),
  };
}

const usage = 'usage: npm run models -- check [--headroom-mb <MB kept for requests in flight>]';

export async function checkCommand(args: readonly string[], repoRoot: string): Promise<void> {
  let requestHeadroomBytes: number | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--headroom-mb' && args[i + 1] !== undefined && Number.isFinite(Number(args[i + 1])) && Number(args[i + 1]) >= 0) {
      requestHeadroomBytes = Number(args[++i]) * 1e6;
    } else {
      throw new Error(`unexpected argument '${args[i]}'\n${usage}`);
    }
  }
  const report = await runCheck({ repoRoot, log: (line) => console.error(line), requestHeadroomBytes });
  console.log(formatReport(report));
  const failed = report.verdict.checks.filter((c) => !c.ok);
  if (failed.length)
    throw new Error(`the edge does not fit Workers' limits:\n  ${failed.map((c) => `${c.name}: ${c.message}`).join('\n  ')}`);
}
