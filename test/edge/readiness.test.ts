// The edge's readiness tells the truth: its dependencies and, per model, where it can run now; 503 once
// a gpu-tier model's backend breaker is open. Answers say where a model ran and on what.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../edge/readiness.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor, textLinePattern } from '../support/infer.ts';

let edge: RunningWorker;
beforeAll(async () => {
  // The backend's port is closed; one failure opens the breaker, for longer than this test runs.
  edge = await startEdgeWorker({ vars: { BACKEND_FAILURE_THRESHOLD: '1', BACKEND_COOL_DOWN_MS: '3600000' } });
});
afterAll(() => edge?.stop());

const ready = async () => {
  const res = await edge.fetchWithoutCredentials('/v2/health/ready');
  return { status: res.status, report: (await res.json()) as ReadinessReport };
};

describe('edge readiness', () => {
  it('reports its dependencies and every model, ready while every breaker is closed', async () => {
    const { status, report } = await ready();
    expect(status).toBe(200);
    expect(report.ready).toBe(true);
    expect(report.dependencies.apiKeys.ok).toBe(true);
    expect(report.dependencies.redis).toMatchObject({ ok: true, detail: expect.stringMatching(/not configured/) });
    expect(report.models['paddleocr-rec']).toEqual({ tier: 'gpu', servedBy: 'backend', breaker: 'closed', ready: true });
    expect(report.models['silero-vad']).toMatchObject({ tier: 'edge', servedBy: 'edge', ready: true });
  });

  it('says an edge run ran on wasm', async () => {
    const inputs = [
      tensor('input', 'FP32', [1, 576], new Float32Array(576)),
      tensor('state', 'FP32', [2, 1, 128], new Float32Array(2 * 128)),
      tensor('sr', 'INT64', [], [16000]),
    ];
    const res = await edge.fetch('/v2/models/silero-vad/infer', postJson({ inputs }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('edge');
    expect(res.headers.get('x-edgeinfer-provider')).toBe('wasm');
  });

  it('answers 503 once a gpu-tier model has no tier to run on: its backend breaker is open', async () => {
    const rec = tensor('x', 'FP32', [1, 3, 48, 64], textLinePattern(64));
    expect((await edge.fetch('/v2/models/paddleocr-rec/infer', postJson({ inputs: [rec] }))).status).toBe(503);
    const { status, report } = await ready();
    expect(status).toBe(503);
    expect(report.ready).toBe(false);
    expect(report.models['paddleocr-rec']).toEqual({ tier: 'gpu', servedBy: 'none', breaker: 'open', ready: false });
    expect(report.dependencies.backend.ok).toBe(false);
    // An auto-tier model still runs here, and an edge model never needed the backend.
    expect(report.models['paddleocr-cls']).toMatchObject({ tier: 'auto', servedBy: 'edge', ready: true });
    expect(report.models['silero-vad']).toMatchObject({ servedBy: 'edge', ready: true });
  });
});
