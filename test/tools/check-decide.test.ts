// The decision behind `models check`: given measured figures and Workers' limits, what fits, what
// does not and by how much, and on which plans.

import { describe, expect, it } from 'vitest';
import { decide, memoryBudget, type EdgeFigures, type ModelFigures } from '../../tools/models/check/decide.ts';
import { workersLimits } from '../../tools/models/check/limits.ts';

const MB = 1e6;

function model(name: string, overrides: Partial<ModelFigures> = {}): ModelFigures {
  return {
    model: name,
    version: '1',
    weightsBytes: 2 * MB,
    labelsBytes: 0,
    sessionWasmBytes: 10 * MB,
    sessionJsBytes: 1 * MB,
    firstRunWasmBytes: 1 * MB,
    createCpuMs: 300,
    firstRunCpuMs: 20,
    ...overrides,
  };
}

function figures(overrides: Partial<EdgeFigures> = {}): EdgeFigures {
  return {
    script: { rawBytes: 17 * 1024 * 1024, gzipBytes: 6.4 * MB },
    startupMs: 120,
    runtime: { wasmInitialBytes: 16.78 * MB, heapTopBytes: 9 * MB, jsBytes: 2 * MB },
    models: [
      model('silero-vad'),
      model('paddleocr-cls', { weightsBytes: 0.6 * MB, sessionWasmBytes: 3 * MB, firstRunWasmBytes: 0.6 * MB }),
    ],
    requestHeadroomBytes: 25 * MB,
    ...overrides,
  };
}

describe('decide', () => {
  it('passes an edge whose script, memory, start-up and first requests all fit, naming the plans they fit', () => {
    const verdict = decide(figures(), workersLimits);
    expect(verdict.ok).toBe(true);
    expect(verdict.checks.map((c) => [c.name, c.ok])).toEqual([
      ['script size', true],
      ['memory', true],
      ['start-up', true],
      ['first request: silero-vad@1', true],
      ['first request: paddleocr-cls@1', true],
    ]);
    expect(verdict.checks[0]!.message).toBe(
      '17.00 MiB of 64.00 MiB uncompressed (every plan); gzip 6.4 MB, within the former compressed limit of paid (10.0 MB)',
    );
    expect(verdict.gzipFitsPlans).toEqual(['paid']);
    expect(verdict.checks[3]!.message).toBe("320.0 ms CPU (session + first run), fits Paid (not Free's 10.0 ms)");
  });

  it('budgets WASM memory as the runtime heap plus every session plus the largest first run, or the initial pages when more', () => {
    // 9 + 10 + 3 + max(1, 0.6) = 23 MB of heap; JS 2 + 1 + 1; files 2 + 0.6; headroom 25.
    expect(memoryBudget(figures())).toEqual({
      wasmBytes: 23 * MB,
      jsBytes: 4 * MB,
      modelFilesBytes: 2.6 * MB,
      requestHeadroomBytes: 25 * MB,
      totalBytes: 54.6 * MB,
    });
    const small = figures({ models: [model('tiny', { sessionWasmBytes: 0.5 * MB, firstRunWasmBytes: 0 })] });
    expect(memoryBudget(small).wasmBytes).toBe(16.78 * MB);
  });

  it('budgets the WASM memory measured after every session and first run when the allocator grew it past the sum of the parts', () => {
    const base = figures();
    const grown = figures({ runtime: { ...base.runtime, finalWasmBytes: 28 * MB } });
    expect(memoryBudget(grown).wasmBytes).toBe(28 * MB);
    expect(memoryBudget(grown).totalBytes).toBe(59.6 * MB);
    const smaller = figures({ runtime: { ...base.runtime, finalWasmBytes: 20 * MB } });
    expect(memoryBudget(smaller).wasmBytes).toBe(23 * MB);
  });

  it('fails when the sessions and the headroom for requests in flight pass 128 MB, saying by how much and which sessions weigh most', () => {
    const rec = model('paddleocr-rec', {
      weightsBytes: 10.8 * MB,
      labelsBytes: 0.03 * MB,
      sessionWasmBytes: 24 * MB,
      firstRunWasmBytes: 3 * MB,
    });
    const det = model('paddleocr-det', { weightsBytes: 4.7 * MB, sessionWasmBytes: 6.5 * MB, firstRunWasmBytes: 3.2 * MB });
    const verdict = decide(figures({ models: [...figures().models, det, rec], requestHeadroomBytes: 40 * MB }), workersLimits);
    // With 40 MB kept for requests it still fits, just:
    expect(verdict.checks.find((c) => c.name === 'memory')!.ok).toBe(true);
    // WASM 9 + 10 + 3 + 6.5 + 24 + 3.2 = 55.7; JS 2 + 4 = 6; files 2 + 0.6 + 4.7 + 10.83 = 18.13; + 40 = 119.83
    expect(verdict.memory.totalBytes).toBeCloseTo(119.83 * MB, -3);
    const over = decide(figures({ models: [...figures().models, det, rec], requestHeadroomBytes: 50 * MB }), workersLimits).checks.find(
      (c) => c.name === 'memory',
    )!;
    expect(over.ok).toBe(false);
    expect(over.message).toBe(
      "129.8 MB is over Workers' 128.0 MB per isolate by 1.8 MB (WASM 55.7 MB + JS heap 6.0 MB + weights and labels 18.1 MB + 50.0 MB headroom for requests in flight); largest sessions: paddleocr-rec@1 35.8 MB, silero-vad@1 13.0 MB, paddleocr-det@1 12.2 MB",
    );
  });

  it('fails a script over 64 MiB uncompressed, by how much, and reports when the gzip passes no former compressed limit', () => {
    const verdict = decide(figures({ script: { rawBytes: 70 * 1024 * 1024, gzipBytes: 12 * MB } }), workersLimits);
    expect(verdict.ok).toBe(false);
    expect(verdict.checks[0]).toEqual({
      name: 'script size',
      ok: false,
      message:
        "70.00 MiB uncompressed is over Workers' 64.00 MiB by 6.00 MiB: carry fewer or smaller (quantized) models at the edge; gzip 12.0 MB, over the former compressed limits (free 3.0 MB, paid 10.0 MB)",
    });
    expect(verdict.gzipFitsPlans).toEqual([]);
  });

  it('fails a start-up over 1 s', () => {
    const check = decide(figures({ startupMs: 1250 }), workersLimits).checks.find((c) => c.name === 'start-up')!;
    expect(check).toEqual({ name: 'start-up', ok: false, message: "1.25 s is over Workers' 1.00 s start-up limit by 250.0 ms" });
  });

  it('says which plans a first request fits: Free under 10 ms, Paid by default under 30 s, Paid up to 5 min only with cpu_ms raised', () => {
    const verdict = decide(
      figures({
        models: [
          model('fast', { createCpuMs: 4, firstRunCpuMs: 3 }),
          model('slow', { createCpuMs: 1000, firstRunCpuMs: 44_000 }),
          model('hopeless', { createCpuMs: 0, firstRunCpuMs: 400_000 }),
        ],
      }),
      workersLimits,
    );
    expect(verdict.cpu.map(({ model, free, paidDefault, paidMax }) => [model, free, paidDefault, paidMax])).toEqual([
      ['fast@1', true, true, true],
      ['slow@1', false, false, true],
      ['hopeless@1', false, false, false],
    ]);
    const messages = Object.fromEntries(
      verdict.checks.filter((c) => c.name.startsWith('first request')).map((c) => [c.name, [c.ok, c.message]]),
    );
    expect(messages['first request: fast@1']).toEqual([true, '7.0 ms CPU (session + first run), fits Free and Paid']);
    expect(messages['first request: slow@1']).toEqual([
      false,
      "45.00 s CPU (session + first run) is over Paid's default 30.00 s by 15.00 s; fits Paid only with limits.cpu_ms raised past 30.00 s (max 300.00 s)",
    ]);
    expect(messages['first request: hopeless@1']).toEqual([
      false,
      "400.00 s CPU (session + first run) is over Paid's default 30.00 s by 370.00 s; fits no plan (max 300.00 s)",
    ]);
  });
});
