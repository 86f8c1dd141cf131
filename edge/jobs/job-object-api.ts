// What a job's Durable Object answers over RPC (edge/jobs/job-object.ts): the app and the queue
// consumer hold this interface, never the class, which only the Workers runtime can load.

import type { Claim, JobRecord, Release } from './job-state.ts';

export interface JobRecordStore {
  create(record: JobRecord): Promise<void>;
  read(): Promise<JobRecord | undefined>;
  claim(nowMs: number): Promise<Claim>;
  release(nowMs: number, reason: string): Promise<Release>;
  finish(nowMs: number, error: string | undefined): Promise<JobRecord>;
  webhookAttempted(nowMs: number, error: string | undefined): Promise<JobRecord>;
}

/** Where a job's request body and result live in R2, beside its record. */
export const jobObjects = {
  request: (id: string) => `jobs/${id}/request`,
  result: (id: string) => `jobs/${id}/result`,
};
