// What a job's Durable Object answers over RPC (edge/jobs/job-object.ts): the app and the queue
// consumer hold this interface, never the class, which only the Workers runtime can load.

import type { Claim, JobRecord, Release } from './job-state.ts';

export interface JobRecordStore {
  /** `requestBody` is kept with the record when it is small (see `inlineBytesMax`); else it is in R2. */
  create(record: JobRecord, requestBody: Uint8Array | undefined): Promise<void>;
  read(): Promise<JobRecord | undefined>;
  /** The record and, for a job that succeeded, its result when kept with the record. */
  view(): Promise<{ record: JobRecord; result: string | undefined } | undefined>;
  /** A granted claim brings the request body when it is kept with the record. */
  claim(nowMs: number): Promise<Claim & { requestBody?: Uint8Array | undefined }>;
  release(nowMs: number, reason: string): Promise<Release>;
  /** `result`: a small success's answer, kept with the record. */
  finish(nowMs: number, error: string | undefined, result?: string): Promise<JobRecord>;
  webhookAttempted(nowMs: number, error: string | undefined): Promise<JobRecord>;
}

/**
 * Request bodies and results up to this size stay with the job's record (one Durable Object write,
 * milliseconds); larger ones go to R2, whose writes take longer but whose objects have no such limit.
 */
export const inlineBytesMax = 128 * 1024;

/** Where a job's large request body and result live in R2, beside its record. */
export const jobObjects = {
  request: (id: string) => `jobs/${id}/request`,
  result: (id: string) => `jobs/${id}/result`,
};
