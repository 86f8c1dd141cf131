// What `models check` counts for requests in flight: the largest request of every edge route under
// the edge's limits, its body and what is decoded beside it.

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import type { Manifest } from '../../models/manifest.ts';
import { ocrTask, vadTask } from '../../models/tasks/catalog.ts';
import { maxTaskBodyBytes } from '../../models/tasks/task-request.ts';
import { edgeRequestLimits } from '../../protocol/edge-limits.ts';
import { decide, type EdgeFigures } from '../../tools/models/check/decide.ts';
import { workersLimits } from '../../tools/models/check/limits.ts';
import { requestCosts } from '../../tools/models/check/request-memory.ts';
import { repoRoot } from '../support/edge-worker.ts';

let manifests: Manifest[];
beforeAll(async () => {
  manifests = (await loadModelFolders(join(repoRoot, 'models'))).map((folder) => folder.manifest);
});

const tasks = { vad: vadTask, ocr: ocrTask };
/** The edge's limits before they existed: whatever the manifests allowed the backend. */
const manifestLimitsOnly = {
  inferBinaryBytes: Number.POSITIVE_INFINITY,
  inferJsonBytes: Number.POSITIVE_INFINITY,
  taskRawBytes: Number.POSITIVE_INFINITY,
  taskJsonBytes: Number.POSITIVE_INFINITY,
};
const MB = 1e6;

/** The repository's measured edge (README: 52.3 MB WASM, 3.3 MB JS, 11.7 MB weights) with a given request in flight. */
function edgeWith(requestHeadroomBytes: number, largestRequest: string): EdgeFigures {
  return {
    script: { rawBytes: 26 * 1024 * 1024, gzipBytes: 14 * MB },
    startupMs: 100,
    runtime: { wasmInitialBytes: 16.8 * MB, heapTopBytes: 52.3 * MB, jsBytes: 3.3 * MB },
    models: [
      {
        model: 'all-carried',
        version: '-',
        weightsBytes: 11.7 * MB,
        labelsBytes: 0,
        sessionWasmBytes: 0,
        sessionJsBytes: 0,
        firstRunWasmBytes: 0,
        createCpuMs: 1,
        firstRunCpuMs: 1,
      },
    ],
    requestHeadroomBytes,
    largestRequest,
  };
}

describe('requestCosts', () => {
  it('counts every route that reads a body, in each of its forms, largest first', () => {
    const costs = requestCosts(manifests, tasks, edgeRequestLimits);
    const routes = new Set(costs.map((c) => `${c.route} ${c.form}`));
    for (const manifest of manifests) {
      expect(routes).toContain(`/v2/models/${manifest.name}/infer binary`);
      expect(routes).toContain(`/v2/models/${manifest.name}/infer json`);
    }
    for (const route of ['/v1/vad raw', '/v1/vad json', '/v1/ocr raw', '/v1/ocr json']) expect(routes).toContain(route);
    expect(costs).toHaveLength(manifests.length * 2 + 4);
    expect(costs.map((c) => c.totalBytes)).toEqual([...costs.map((c) => c.totalBytes)].sort((a, b) => b - a));
    for (const c of costs) expect(c.totalBytes).toBe(c.bodyBytes + Object.values(c.terms).reduce((a, b) => a + b, 0));
  });

  it("takes each body at the smaller of the edge's limit and the manifest's", () => {
    const costs = requestCosts(manifests, tasks, edgeRequestLimits);
    const body = (route: string, form: string) => costs.find((c) => c.route === route && c.form === form)!.bodyBytes;
    for (const manifest of manifests) {
      const path = `/v2/models/${manifest.name}/infer`;
      expect(body(path, 'binary')).toBe(Math.min(manifest.limits.maxRequestBytes, edgeRequestLimits.inferBinaryBytes));
      expect(body(path, 'json')).toBe(Math.min(manifest.limits.maxRequestBytes, edgeRequestLimits.inferJsonBytes));
    }
    expect(body('/v1/vad', 'raw')).toBe(Math.min(vadTask.limits.maxFileBytes, edgeRequestLimits.taskRawBytes));
    expect(body('/v1/vad', 'json')).toBe(Math.min(maxTaskBodyBytes(vadTask.limits), edgeRequestLimits.taskJsonBytes));
  });

  it('costs a JSON task batch at more than the 4.1 times its body measured in workerd', () => {
    for (const c of requestCosts(manifests, tasks, edgeRequestLimits).filter((c) => c.route.startsWith('/v1/') && c.form === 'json'))
      expect(c.totalBytes / c.bodyBytes).toBeGreaterThanOrEqual(4.1);
  });

  it("finds that the manifests' limits alone do not fit an isolate: the ~358 MB /v1/vad batch", () => {
    const costs = requestCosts(manifests, tasks, manifestLimitsOnly);
    const batch = costs.find((c) => c.route === '/v1/vad' && c.form === 'json')!;
    expect(batch.bodyBytes).toBe(maxTaskBodyBytes(vadTask.limits));
    expect(Math.round(batch.bodyBytes / MB)).toBe(358);
    const verdict = decide(edgeWith(costs[0]!.totalBytes, `${costs[0]!.route} (${costs[0]!.form})`), workersLimits);
    const memory = verdict.checks.find((c) => c.name === 'memory')!;
    expect(memory.ok).toBe(false);
    expect(memory.message).toMatch(/over Workers' 128\.0 MB per isolate by [\d.]+ MB .*for the largest request the edge accepts/);
  });

  it("fits the largest request under the edge's limits beside the measured sessions, naming it", () => {
    const largest = requestCosts(manifests, tasks, edgeRequestLimits)[0]!;
    const verdict = decide(edgeWith(largest.totalBytes, `${largest.route} (${largest.form})`), workersLimits);
    const memory = verdict.checks.find((c) => c.name === 'memory')!;
    expect(memory.ok, memory.message).toBe(true);
    expect(memory.message).toContain(`for the largest request the edge accepts, ${largest.route} (${largest.form})`);
  });
});
