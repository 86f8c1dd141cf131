// Asynchronous jobs on the wire: the `Prefer: respond-async` request (RFC 7240), the 202 that accepts
// it, and the job a caller reads at its `Location` or receives at its webhook. Edge and client share it.

import { z } from 'zod';

export const jobStatuses = ['queued', 'running', 'succeeded', 'failed'] as const;
export const JobStatus = z.enum(jobStatuses);
export type JobStatus = z.infer<typeof JobStatus>;

/** `job_` and 32 hex digits (128 random bits): unguessable, so a job is found only by its owner. */
export const jobIdPattern = /^job_[0-9a-f]{32}$/;

/** The request header naming where the finished job is POSTed (https in production). */
export const webhookRequestHeader = 'x-edgeinfer-webhook';

export const jobPath = (id: string) => `/v1/jobs/${id}`;

/** The 202's body. */
export const JobAccepted = z.object({ id: z.string(), status: z.literal('queued') });
export type JobAccepted = z.infer<typeof JobAccepted>;

/**
 * `GET /v1/jobs/{id}` and the webhook's body. `result` is the body the synchronous call answers;
 * `error` says why a failed job failed. Times are ISO 8601.
 */
export const Job = z.object({
  id: z.string(),
  status: JobStatus,
  result: z.unknown().optional(),
  error: z.string().optional(),
  created_at: z.string(),
  finished_at: z.string().optional(),
});
export type Job = z.infer<typeof Job>;

/** RFC 7240 §2: preferences are comma-separated tokens, each with optional `;`-parameters. */
export function prefersRespondAsync(prefer: string | undefined): boolean {
  if (!prefer) return false;
  return prefer.split(',').some((preference) => preference.split(';')[0]!.split('=')[0]!.trim().toLowerCase() === 'respond-async');
}
