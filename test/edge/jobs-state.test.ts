// A job's transitions (edge/jobs/job-state.ts) with the clock passed in: leases, backoff, deadline,
// the watchdog's re-dispatch and expiry.

import { describe, expect, it } from 'vitest';
import {
  claim,
  type JobPolicy,
  newJobRecord,
  nextAlarmMs,
  onAlarm,
  release,
  retryDelaySeconds,
  succeed,
  webhookAttempted,
} from '../../edge/jobs/job-state.ts';

const policy: JobPolicy = { deadlineMs: 60_000, resultTtlMs: 3_600_000, watchdogMs: 10_000, retryBaseSeconds: 2, retryMaxSeconds: 30 };
const principal = { kind: 'api-key' as const, id: 'key_a', owner: 'o', plan: 'free' as const, models: '*' as const };
const fresh = (webhookUrl?: string) =>
  newJobRecord({ id: 'job_1', principal, request: { path: '/v1/ocr', headers: [] }, webhookUrl }, 1_000, policy);

describe('job state', () => {
  it('grants one runner a lease and skips others until it lapses', () => {
    const first = claim(fresh(), 2_000, policy);
    expect(first.action).toBe('run');
    const running = (first as { record: ReturnType<typeof fresh> }).record;
    expect(running).toMatchObject({ status: 'running', attempts: 1, leaseUntilMs: 12_000 });
    expect(claim(running, 5_000, policy).action).toBe('skip');
    expect(claim(running, 12_000, policy).action).toBe('run');
  });

  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(n, policy))).toEqual([2, 4, 8, 16, 30, 30]);
  });

  it('releases a run the backend could not take back to the queue, and fails it past the deadline with the reason', () => {
    const running = (claim(fresh(), 2_000, policy) as { record: ReturnType<typeof fresh> }).record;
    const released = release(running, 3_000, '503: backend down', policy);
    expect(released).toMatchObject({ action: 'retry', delaySeconds: 2, record: { status: 'queued', lastError: '503: backend down' } });
    const late = release(running, 61_000, '503: backend down', policy);
    expect(late.action).toBe('failed');
    expect(late.record.error).toMatch(/deadline.*503: backend down/);
    expect(claim(released.record, 61_000, policy)).toMatchObject({ action: 'failed', record: { status: 'failed' } });
  });

  it('has its alarm dispatch a job gone quiet, and leave one with recent progress alone', () => {
    const record = fresh();
    expect(nextAlarmMs(record, policy)).toBe(11_000);
    expect(onAlarm(record, 5_000, policy)).toMatchObject({ action: 'update', dispatch: undefined });
    expect(onAlarm(record, 11_000, policy)).toMatchObject({
      action: 'update',
      dispatch: { kind: 'run', jobId: 'job_1' },
      record: { lastActivityMs: 11_000 },
    });
  });

  it('keeps a finished job for its TTL, dispatching an undelivered webhook meanwhile, then expires it', () => {
    const done = succeed((claim(fresh('https://example.test/hook'), 2_000, policy) as { record: ReturnType<typeof fresh> }).record, 3_000);
    expect(onAlarm(done, 13_000, policy)).toMatchObject({ dispatch: { kind: 'deliver' } });
    const delivered = webhookAttempted(done, 4_000, undefined);
    expect(nextAlarmMs(delivered, policy)).toBe(3_603_000);
    expect(onAlarm(delivered, 3_603_000, policy)).toEqual({ action: 'expire' });
  });
});
