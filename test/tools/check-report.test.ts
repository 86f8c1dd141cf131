// `models check` on the real repository: the bundle wrangler would upload, every model the edge
// carries measured in onnxruntime-web, and a non-zero exit naming what does not fit.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { edgeCarriedVersions } from '../../models/manifest.ts';
import { runCheck } from '../../tools/models/check/command.ts';
import { formatReport, type Report } from '../../tools/models/check/report.ts';
import { repoRoot } from '../support/edge-worker.ts';

let report: Report;
const progress: string[] = [];
// Builds the bundle once (wrangler's dry run) and measures every carried model's session once.
beforeAll(async () => {
  report = await runCheck({ repoRoot, log: (line) => progress.push(line) });
}, 120_000);

describe('models check on this repository', () => {
  it("lists every model the edge carries, at its carried version, with its bytes and a session's memory", async () => {
    const carried = (await loadModelFolders(join(repoRoot, 'models'))).flatMap(({ manifest }) =>
      edgeCarriedVersions(manifest).map((version) => ({
        name: `${manifest.name}@${version.version}`,
        bytes: version.bytes,
        labels: version.labels?.bytes ?? 0,
      })),
    );
    expect(carried.length).toBeGreaterThan(0);
    expect(report.models.map((m) => `${m.model}@${m.version}`)).toEqual(carried.map((c) => c.name));
    for (const [i, m] of report.models.entries()) {
      expect(m.weightsBytes).toBe(carried[i]!.bytes);
      expect(m.labelsBytes).toBe(carried[i]!.labels);
      expect(m.sessionWasmBytes + m.sessionJsBytes).toBeGreaterThan(0);
      expect(m.firstRunCpuMs).toBeGreaterThan(0);
    }
    const text = formatReport(report);
    for (const c of carried) expect(text).toContain(c.name);
  });

  it('measures the bundle wrangler would upload, with every carried weights file in it, and its start-up', () => {
    const files = report.bundle.modules.map((m) => m.file);
    expect(files).toContain('index.js');
    expect(files.some((f) => f.endsWith('.wasm'))).toBe(true);
    for (const m of report.models)
      expect(files.some((f) => f.endsWith('.onnx') && report.bundle.modules.find((b) => b.file === f)!.rawBytes === m.weightsBytes)).toBe(
        true,
      );
    expect(report.bundle.gzipBytes).toBeLessThan(report.bundle.rawBytes);
    expect(report.startup.totalMs).toBeGreaterThan(0);
    expect(progress[0]).toMatch(/building the edge bundle/);
  });

  it('finds that the edge fits as the repository stands', () => {
    expect(report.verdict.checks.filter((c) => !c.ok)).toEqual([]);
    expect(formatReport(report)).toMatch(/The edge fits Workers' limits\.$/);
  });

  it('exits non-zero naming the limit passed and by how much when the edge would not fit', async () => {
    // 120 MB kept for requests in flight leaves too little for the sessions.
    const run = promisify(execFile)(process.execPath, [join(repoRoot, 'tools/models/cli.ts'), 'check', '--headroom-mb', '120'], {
      cwd: repoRoot,
    });
    const failure = await run.then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toMatch(/FAIL {2}memory: [\d.]+ MB is over Workers' 128\.0 MB per isolate by [\d.]+ MB/);
    expect(failure?.stderr).toMatch(/models check: the edge does not fit Workers' limits:\n {2}memory: /);
  }, 60_000);
});
