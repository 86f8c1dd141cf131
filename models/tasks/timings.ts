// Where a task request's time went, stage by stage and model by model, answered as a Server-Timing
// header (https://www.w3.org/TR/server-timing/) so callers and bench/tasks.ts see the split per tier.

import type { PipelineStage, StageTimer } from './run-model.ts';

export class TaskTimings {
  readonly #stages = new Map<string, number>();
  readonly #busy = new Map<string, { calls: number; sinceMs: number }>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Pass to a pipeline: it reports decode, preprocess and postprocess. */
  readonly timer: StageTimer = (stage: PipelineStage, ms: number) => this.#add(stage, ms);

  /** Adds `ms` to a model's time, for a caller that runs one model call at a time and times it itself. */
  addModel(model: string, ms: number): void {
    this.#add(`model-${model}`, ms);
  }

  /**
   * Called by a tier's RunModel as a call of `model` starts; the function it returns, once that call
   * is answered. A model's time is how long any call of it was unanswered: calls a pipeline keeps in
   * flight together overlap, and summed they would count the same milliseconds twice.
   */
  modelCall(model: string): () => void {
    const busy = this.#busy.get(model) ?? { calls: 0, sinceMs: 0 };
    if (busy.calls === 0) busy.sinceMs = this.#now();
    busy.calls++;
    this.#busy.set(model, busy);
    let answered = false;
    return () => {
      if (answered) return;
      answered = true;
      busy.calls--;
      if (busy.calls === 0) this.addModel(model, this.#now() - busy.sinceMs);
    };
  }

  #add(name: string, ms: number): void {
    this.#stages.set(name, (this.#stages.get(name) ?? 0) + ms);
  }

  /** `decode;dur=1.204, preprocess;dur=…, model-silero-vad;dur=…, task;dur=…` */
  serverTiming(totalMs: number): string {
    return [...this.#stages, ['task', totalMs] as const].map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`).join(', ');
  }
}

/** Reads a Server-Timing header back into milliseconds by name. */
export function parseServerTiming(header: string | null): Record<string, number> {
  const timings: Record<string, number> = {};
  for (const entry of header?.split(',') ?? []) {
    const [name, ...params] = entry.trim().split(';');
    const duration = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
    if (name && duration) timings[name] = Number(duration.slice(4));
  }
  return timings;
}
