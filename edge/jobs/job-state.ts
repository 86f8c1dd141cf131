// A job's life as pure transitions over its record, the clock passed in: claimed by one runner at a
// time (a lease), released with a backoff while the backend cannot answer, failed once its deadline
// passes, kept until it expires. The Durable Object that stores the record only applies these.

import type { Principal } from '../auth/principal.ts';
import type { JobStatus } from '../../protocol/jobs.ts';

/** What a job's work item on the queue says: run it, or deliver its webhook. */
export type JobMessage = { kind: 'run'; jobId: string } | { kind: 'deliver'; jobId: string };

export interface JobPolicy {
  /** An accepted job that has not succeeded this long after it was accepted fails, saying why. */
  deadlineMs: number;
  /** How long a finished job (and its result) can be read. */
  resultTtlMs: number;
  /**
   * A job with no progress for this long is dispatched again by its record's alarm: the queue message
   * that carried it may be gone (a local queue lives in memory), and a runner that died holds no lease
   * past it. Longer than the longest run and the longest retry delay.
   */
  watchdogMs: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
}

export interface WebhookState {
  url: string;
  delivered: boolean;
  attempts: number;
  lastAttemptMs: number | undefined;
  lastError: string | undefined;
}

export interface JobRecord {
  id: string;
  /** Who the job was accepted for: it runs as them, and only they can read it. */
  principal: Principal;
  /** The request to replay through the app: path with query, and the headers the route reads; its body is in R2. */
  request: { path: string; headers: [string, string][] };
  status: JobStatus;
  createdAtMs: number;
  finishedAtMs: number | undefined;
  deadlineAtMs: number;
  attempts: number;
  /** Last claim, release or dispatch: the watchdog measures silence from here. */
  lastActivityMs: number;
  leaseUntilMs: number | undefined;
  lastError: string | undefined;
  error: string | undefined;
  webhook: WebhookState | undefined;
}

const terminal = (status: JobStatus) => status === 'succeeded' || status === 'failed';

export function newJobRecord(
  init: { id: string; principal: Principal; request: JobRecord['request']; webhookUrl: string | undefined },
  nowMs: number,
  policy: JobPolicy,
): JobRecord {
  return {
    id: init.id,
    principal: init.principal,
    request: init.request,
    status: 'queued',
    createdAtMs: nowMs,
    finishedAtMs: undefined,
    deadlineAtMs: nowMs + policy.deadlineMs,
    attempts: 0,
    lastActivityMs: nowMs,
    leaseUntilMs: undefined,
    lastError: undefined,
    error: undefined,
    webhook: init.webhookUrl
      ? { url: init.webhookUrl, delivered: false, attempts: 0, lastAttemptMs: undefined, lastError: undefined }
      : undefined,
  };
}

/** Exponential: base·2^(n−1) seconds for the n-th attempt, capped. */
export function retryDelaySeconds(attempts: number, policy: JobPolicy): number {
  return Math.min(policy.retryMaxSeconds, policy.retryBaseSeconds * 2 ** Math.max(0, attempts - 1));
}

/** When a finished job's record and result are deleted. */
export function expiresAtMs(record: JobRecord, policy: JobPolicy): number | undefined {
  return record.finishedAtMs === undefined ? undefined : record.finishedAtMs + policy.resultTtlMs;
}

function finish(record: JobRecord, nowMs: number, outcome: { status: 'succeeded' } | { status: 'failed'; error: string }): JobRecord {
  return {
    ...record,
    status: outcome.status,
    error: outcome.status === 'failed' ? outcome.error : undefined,
    finishedAtMs: nowMs,
    leaseUntilMs: undefined,
    lastActivityMs: nowMs,
  };
}

export const succeed = (record: JobRecord, nowMs: number) => finish(record, nowMs, { status: 'succeeded' });
export const fail = (record: JobRecord, nowMs: number, error: string) => finish(record, nowMs, { status: 'failed', error });

function deadlineError(record: JobRecord): string {
  const tries = `${record.attempts} attempt${record.attempts === 1 ? '' : 's'}`;
  return `the job did not finish within its deadline (${tries}${record.lastError ? `; last: ${record.lastError}` : ''})`;
}

export type Claim = { action: 'run'; record: JobRecord } | { action: 'skip' } | { action: 'failed'; record: JobRecord };

/** A runner asks to run the job: granted unless it is finished, past its deadline, or leased to another. */
export function claim(record: JobRecord, nowMs: number, policy: JobPolicy): Claim {
  if (terminal(record.status)) return { action: 'skip' };
  if (record.status === 'running' && record.leaseUntilMs !== undefined && record.leaseUntilMs > nowMs) return { action: 'skip' };
  if (nowMs >= record.deadlineAtMs) return { action: 'failed', record: fail(record, nowMs, deadlineError(record)) };
  return {
    action: 'run',
    record: {
      ...record,
      status: 'running',
      attempts: record.attempts + 1,
      leaseUntilMs: nowMs + policy.watchdogMs,
      lastActivityMs: nowMs,
    },
  };
}

export type Release = { action: 'retry'; record: JobRecord; delaySeconds: number } | { action: 'failed'; record: JobRecord };

/** The run could not be done now (backend cold or down): back to the queue with a backoff, or failed past the deadline. */
export function release(record: JobRecord, nowMs: number, reason: string, policy: JobPolicy): Release {
  const released = { ...record, status: 'queued' as const, leaseUntilMs: undefined, lastActivityMs: nowMs, lastError: reason };
  const delaySeconds = retryDelaySeconds(record.attempts, policy);
  if (nowMs >= record.deadlineAtMs) return { action: 'failed', record: fail(released, nowMs, deadlineError(released)) };
  return { action: 'retry', record: released, delaySeconds };
}

export function webhookAttempted(record: JobRecord, nowMs: number, error: string | undefined): JobRecord {
  if (!record.webhook) return record;
  return {
    ...record,
    webhook: {
      ...record.webhook,
      delivered: error === undefined,
      attempts: record.webhook.attempts + 1,
      lastAttemptMs: nowMs,
      lastError: error,
    },
  };
}

export const webhookPending = (record: JobRecord) => terminal(record.status) && record.webhook !== undefined && !record.webhook.delivered;

/** When the record's alarm should next look at it. */
export function nextAlarmMs(record: JobRecord, policy: JobPolicy): number {
  const expires = expiresAtMs(record, policy);
  if (expires === undefined) return Math.min(record.deadlineAtMs, record.lastActivityMs + policy.watchdogMs);
  if (webhookPending(record)) return Math.min(expires, (record.webhook!.lastAttemptMs ?? record.finishedAtMs!) + policy.watchdogMs);
  return expires;
}

export type AlarmAction = { action: 'expire' } | { action: 'update'; record: JobRecord; dispatch: JobMessage | undefined };

/** What the alarm does: delete an expired job, fail one past its deadline, or dispatch work that went quiet. */
export function onAlarm(record: JobRecord, nowMs: number, policy: JobPolicy): AlarmAction {
  const expires = expiresAtMs(record, policy);
  if (expires !== undefined && nowMs >= expires) return { action: 'expire' };
  const quiet = nowMs - record.lastActivityMs >= policy.watchdogMs;
  if (!terminal(record.status)) {
    const leased = record.status === 'running' && record.leaseUntilMs !== undefined && record.leaseUntilMs > nowMs;
    if (!leased && nowMs >= record.deadlineAtMs) {
      const failed = fail(record, nowMs, deadlineError(record));
      return { action: 'update', record: failed, dispatch: failed.webhook ? { kind: 'deliver', jobId: record.id } : undefined };
    }
    if (quiet && !leased)
      return { action: 'update', record: { ...record, lastActivityMs: nowMs }, dispatch: { kind: 'run', jobId: record.id } };
    return { action: 'update', record, dispatch: undefined };
  }
  const lastTry = record.webhook?.lastAttemptMs ?? record.finishedAtMs!;
  if (webhookPending(record) && nowMs - lastTry >= policy.watchdogMs)
    return {
      action: 'update',
      record: { ...record, webhook: { ...record.webhook!, lastAttemptMs: nowMs } },
      dispatch: { kind: 'deliver', jobId: record.id },
    };
  return { action: 'update', record, dispatch: undefined };
}
