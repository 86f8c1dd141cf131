// `npm run models -- check`: measures the edge as it would deploy (bundle, start-up, every carried
// model's session in onnxruntime-web) and fails, naming what does not fit and by how much, when the
// edge would not fit Workers' limits.

import { join } from 'node:path';
import { loadModelFolders } from '../../../models/catalog-fs.ts';
import { ocrTask, vadTask } from '../../../models/tasks/catalog.ts';
import { edgeRequestLimits } from '../../../protocol/edge-limits.ts';
import { buildBundle, bundleSize } from './bundle-size.ts';
import { decide, type EdgeFigures } from './decide.ts';
import { carriedModels } from './edge-models.ts';
import { firstInputs } from './first-inputs.ts';
import { workersLimits } from './limits.ts';
import { formatReport, type Report } from './report.ts';
import { requestCosts } from './request-memory.ts';
import { measureSessionCosts } from './session-cost.ts';
import { measureStartup } from './startup.ts';

export interface CheckOptions {
  repoRoot: string;
  /** Progress lines while it measures (building the bundle takes a while). */
  log: (line: string) => void;
  /** Overrides the largest request the edge's limits allow (`requestCosts`) as the memory kept for requests in flight. */
  requestHeadroomBytes?: number;
}

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

  // Every route's largest request under the edge's limits; the largest of them must fit beside the sessions.
  const requests = requestCosts(
    (await loadModelFolders(join(repoRoot, 'models'))).map((folder) => folder.manifest),
    { vad: vadTask, ocr: ocrTask },
    edgeRequestLimits,
  );
  const largest = requests[0]!;
  const figures: EdgeFigures = {
    script: bundle,
    startupMs: startup.totalMs,
    runtime: {
      wasmInitialBytes: costs.runtimeWasmBytes,
      heapTopBytes: costs.runtimeHeapTopBytes,
      jsBytes: costs.runtimeJsBytes,
      finalWasmBytes: costs.finalWasmBytes,
    },
    models: costs.models.map((cost, i) => ({ ...cost, weightsBytes: models[i]!.weightsBytes, labelsBytes: models[i]!.labelsBytes })),
    requestHeadroomBytes: options.requestHeadroomBytes ?? largest.totalBytes,
    largestRequest: options.requestHeadroomBytes === undefined ? `${largest.route} (${largest.form})` : undefined,
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
    requests,
    verdict: decide(figures, workersLimits),
  };
}

const usage = 'usage: npm run models -- check [--headroom-mb <MB kept for requests in flight, instead of the largest request>]';

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
