// Async jobs from the client's side: a handle on an accepted job (`wait()` polls its Location with
// growing pauses until it finishes) and the error a failed job throws.

import type { z } from 'zod';
import type { Job } from '../protocol/jobs.ts';

export class JobFailedError extends Error {
  readonly job: Job;

  constructor(job: Job) {
    super(job.error ?? `job ${job.id} failed`);
    this.name = 'JobFailedError';
    this.job = job;
  }
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** The first pause between reads; each next one is 1.5× longer, up to `maxPollIntervalMs`. Default 250. */
  pollIntervalMs?: number;
  /** Default 5 000. */
  maxPollIntervalMs?: number;
}

export interface JobHandle<T> {
  id: string;
  /** The job as it stands now. */
  get(options?: { signal?: AbortSignal }): Promise<Job>;
  /** Resolves with the synchronous call's answer once the job succeeded; throws JobFailedError if it failed. */
  wait(options?: WaitOptions): Promise<T>;
}

export function jobHandle<S extends z.ZodType>(
  id: string,
  read: (id: string, signal: AbortSignal | undefined) => Promise<Job>,
  resultSchema: S,
  sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>,
): JobHandle<z.infer<S>> {
  return {
    id,
    get: (options = {}) => read(id, options.signal),
    async wait(options = {}) {
      let pauseMs = options.pollIntervalMs ?? 250;
      const maxPauseMs = options.maxPollIntervalMs ?? 5_000;
      for (;;) {
        const job = await read(id, options.signal);
        if (job.status === 'succeeded') return resultSchema.parse(job.result) as z.infer<S>;
        if (job.status === 'failed') throw new JobFailedError(job);
        await sleep(pauseMs, options.signal);
        pauseMs = Math.min(maxPauseMs, pauseMs * 1.5);
      }
    },
  };
}
