// The pure core of `models check`: given what was measured and Workers' limits, what fits, what does
// not and by how much, and on which plans. No I/O: the command measures, this decides.

import type { WorkersLimits } from './limits.ts';

export interface ModelFigures {
  model: string;
  version: string;
  weightsBytes: number;
  labelsBytes: number;
  sessionWasmBytes: number;
  sessionJsBytes: number;
  firstRunWasmBytes: number;
  createCpuMs: number;
  firstRunCpuMs: number;
}

export interface EdgeFigures {
  script: { rawBytes: number; gzipBytes: number };
  startupMs: number;
  runtime: {
    wasmInitialBytes: number;
    heapTopBytes: number;
    jsBytes: number;
    /**
     * The WebAssembly memory's size once every session was created and run once, where it was
     * measured: the allocator grows memory in steps, so it can be more than the sum of the parts.
     */
    finalWasmBytes?: number | undefined;
  };
  models: ModelFigures[];
  /** Kept free for requests in flight (bodies, decoded audio and images): the largest request the edge's limits allow. */
  requestHeadroomBytes: number;
  /** Which route's largest request that is (request-memory.ts), for the message. */
  largestRequest?: string | undefined;
}

export interface MemoryBudget {
  /**
   * WebAssembly memory: the runtime's initial pages, or its heap plus every session and the largest
   * first run, or the size measured after all of them, whichever is most.
   */
  wasmBytes: number;
  /** JS heap of the runtime and the sessions. */
  jsBytes: number;
  /** Weights and labels, held as Data and Text modules for the isolate's life. */
  modelFilesBytes: number;
  requestHeadroomBytes: number;
  totalBytes: number;
}

export interface Check {
  /** What is checked: 'script size', 'memory', 'start-up', or 'first request: <model>'. */
  name: string;
  ok: boolean;
  /** One line: the figure against its limit, and when it fails, by how much. */
  message: string;
}

export interface Verdict {
  ok: boolean;
  checks: Check[];
  memory: MemoryBudget;
  /** Plans under whose former compressed-size limit the script fits. */
  gzipFitsPlans: ('free' | 'paid')[];
  /** Per model, the CPU limits its first request (session creation + first run) fits. */
  cpu: { model: string; firstRequestCpuMs: number; free: boolean; paidDefault: boolean; paidMax: boolean }[];
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`);

export function memoryBudget(figures: EdgeFigures): MemoryBudget {
  const { runtime, models } = figures;
  const sessions = models.reduce((sum, m) => sum + m.sessionWasmBytes, 0);
  // One run at a time per isolate (one WASM thread): only the largest first run's scratch counts.
  const largestRun = Math.max(0, ...models.map((m) => m.firstRunWasmBytes));
  // WebAssembly memory never shrinks: what it holds is the runtime's initial pages until the heap outgrows them.
  const wasmBytes = Math.max(runtime.wasmInitialBytes, runtime.heapTopBytes + sessions + largestRun, runtime.finalWasmBytes ?? 0);
  const jsBytes = runtime.jsBytes + models.reduce((sum, m) => sum + m.sessionJsBytes, 0);
  const modelFilesBytes = models.reduce((sum, m) => sum + m.weightsBytes + m.labelsBytes, 0);
  return {
    wasmBytes,
    jsBytes,
    modelFilesBytes,
    requestHeadroomBytes: figures.requestHeadroomBytes,
    totalBytes: wasmBytes + jsBytes + modelFilesBytes + figures.requestHeadroomBytes,
  };
}

export function decide(figures: EdgeFigures, limits: WorkersLimits): Verdict {
  const checks: Check[] = [];
  const { script } = figures;

  const rawOver = script.rawBytes - limits.scriptRawBytes;
  const gzipFitsPlans = (['free', 'paid'] as const).filter((plan) => script.gzipBytes <= limits.scriptGzipBytes[plan]);
  checks.push({
    name: 'script size',
    ok: rawOver <= 0,
    message:
      (rawOver <= 0
        ? `${mib(script.rawBytes)} of ${mib(limits.scriptRawBytes)} uncompressed (every plan)`
        : `${mib(script.rawBytes)} uncompressed is over Workers' ${mib(limits.scriptRawBytes)} by ${mib(rawOver)}: carry fewer or smaller (quantized) models at the edge`) +
      `; gzip ${mb(script.gzipBytes)}, ${gzipFitsPlans.length ? `within the former compressed limit of ${gzipFitsPlans.map((p) => `${p} (${mb(limits.scriptGzipBytes[p])})`).join(' and ')}` : `over the former compressed limits (free ${mb(limits.scriptGzipBytes.free)}, paid ${mb(limits.scriptGzipBytes.paid)})`}`,
  });

  const memory = memoryBudget(figures);
  const memoryOver = memory.totalBytes - limits.memoryBytes;
  const parts = `WASM ${mb(memory.wasmBytes)} + JS heap ${mb(memory.jsBytes)} + weights and labels ${mb(memory.modelFilesBytes)} + ${mb(memory.requestHeadroomBytes)} ${figures.largestRequest ? `for the largest request the edge accepts, ${figures.largestRequest}` : 'headroom for requests in flight'}`;
  checks.push({
    name: 'memory',
    ok: memoryOver <= 0,
    message:
      memoryOver <= 0
        ? `${mb(memory.totalBytes)} of ${mb(limits.memoryBytes)} per isolate (${parts})`
        : `${mb(memory.totalBytes)} is over Workers' ${mb(limits.memoryBytes)} per isolate by ${mb(memoryOver)} (${parts}); largest sessions: ${[
            ...figures.models,
          ]
            .sort(
              (a, b) => b.sessionWasmBytes + b.sessionJsBytes + b.weightsBytes - (a.sessionWasmBytes + a.sessionJsBytes + a.weightsBytes),
            )
            .slice(0, 3)
            .map((m) => `${m.model}@${m.version} ${mb(m.sessionWasmBytes + m.sessionJsBytes + m.weightsBytes + m.labelsBytes)}`)
            .join(', ')}`,
  });

  const startupOver = figures.startupMs - limits.startupMs;
  checks.push({
    name: 'start-up',
    ok: startupOver <= 0,
    message:
      startupOver <= 0
        ? `${ms(figures.startupMs)} of ${ms(limits.startupMs)}`
        : `${ms(figures.startupMs)} is over Workers' ${ms(limits.startupMs)} start-up limit by ${ms(startupOver)}`,
  });

  const { free, paidDefault, paidMax } = limits.cpuMsPerRequest;
  const cpu = figures.models.map((m) => {
    const firstRequestCpuMs = m.createCpuMs + m.firstRunCpuMs;
    return {
      model: `${m.model}@${m.version}`,
      firstRequestCpuMs,
      free: firstRequestCpuMs <= free,
      paidDefault: firstRequestCpuMs <= paidDefault,
      paidMax: firstRequestCpuMs <= paidMax,
    };
  });
  for (const c of cpu) {
    const plans = c.free
      ? 'fits Free and Paid'
      : c.paidDefault
        ? `fits Paid (not Free's ${ms(free)})`
        : c.paidMax
          ? `fits Paid only with limits.cpu_ms raised past ${ms(paidDefault)}`
          : 'fits no plan';
    checks.push({
      name: `first request: ${c.model}`,
      ok: c.paidDefault,
      message: c.paidDefault
        ? `${ms(c.firstRequestCpuMs)} CPU (session + first run), ${plans}`
        : `${ms(c.firstRequestCpuMs)} CPU (session + first run) is over Paid's default ${ms(paidDefault)} by ${ms(c.firstRequestCpuMs - paidDefault)}; ${plans} (max ${ms(paidMax)})`,
    });
  }

  return { ok: checks.every((c) => c.ok), checks, memory, gzipFitsPlans, cpu };
}
