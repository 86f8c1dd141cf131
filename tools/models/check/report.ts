// The text `models check` prints: the bundle's modules, each carried model's costs, and each check.

import type { BundleSize } from './bundle-size.ts';
import type { ModelFigures, Verdict } from './decide.ts';
import type { RequestCost } from './request-memory.ts';
import type { StartupCost } from './startup.ts';

export interface Report {
  bundle: BundleSize;
  startup: StartupCost;
  runtime: { wasmInitialBytes: number; heapTopBytes: number; jsBytes: number; initCpuMs: number; finalWasmBytes: number };
  models: (ModelFigures & { input: string })[];
  /** Every route's largest request under the edge's limits, largest first. */
  requests: RequestCost[];
  verdict: Verdict;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

export function formatReport(report: Report): string {
  const { bundle, startup, runtime, models, requests, verdict } = report;
  const lines: string[] = [];
  lines.push('Edge bundle (wrangler deploy --dry-run)');
  lines.push(
    ...table(
      ['module', 'raw', 'gzip'],
      [...bundle.modules.map((m) => [m.file, mib(m.rawBytes), mib(m.gzipBytes)]), ['total', mib(bundle.rawBytes), mib(bundle.gzipBytes)]],
    ),
  );
  lines.push(`  start-up: parse ${ms(startup.parseMs)} + WebAssembly compile ${ms(startup.wasmCompileMs)}`);
  lines.push('');
  lines.push("Models the edge carries, in onnxruntime-web (WASM, 1 thread, the edge's session options)");
  lines.push(
    ...table(
      ['model', 'weights', 'labels', 'session WASM', 'session JS', 'first run WASM', 'create CPU', 'first run CPU', 'first input'],
      [
        [
          '(runtime)',
          '',
          '',
          mb(runtime.heapTopBytes),
          mb(runtime.jsBytes),
          '',
          ms(runtime.initCpuMs),
          '',
          `initial WASM memory ${mb(runtime.wasmInitialBytes)}`,
        ],
        ...models.map((m) => [
          `${m.model}@${m.version}`,
          mb(m.weightsBytes),
          m.labelsBytes ? mb(m.labelsBytes) : '-',
          mb(m.sessionWasmBytes),
          mb(m.sessionJsBytes),
          mb(m.firstRunWasmBytes),
          ms(m.createCpuMs),
          ms(m.firstRunCpuMs),
          m.input,
        ]),
      ],
    ),
  );
  lines.push(
    `  WASM memory measured after every session and first run: ${mb(runtime.finalWasmBytes)}; budgeted: ${mb(verdict.memory.wasmBytes)}`,
  );
  lines.push(
    "  (runtime create CPU includes compiling its .wasm, which Workers do at upload; a model's first request pays its create + first run)",
  );
  lines.push('');
  lines.push("The largest request of each route under the edge's limits (protocol/edge-limits.ts): body, and what is decoded beside it");
  lines.push(
    ...table(
      ['route', 'form', 'body', 'at its peak', 'held beside the body'],
      requests.map((r) => [
        r.route,
        r.form,
        mb(r.bodyBytes),
        mb(r.totalBytes),
        Object.entries(r.terms)
          .map(([name, bytes]) => `${name} ${mb(bytes)}`)
          .join(', '),
      ]),
    ),
  );
  lines.push('');
  lines.push("Against Workers' limits");
  for (const check of verdict.checks) lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.message}`);
  lines.push('');
  const failed = verdict.checks.filter((c) => !c.ok);
  lines.push(failed.length === 0 ? "The edge fits Workers' limits." : `The edge does not fit: ${failed.map((c) => c.name).join('; ')}.`);
  return lines.join('\n');
}
