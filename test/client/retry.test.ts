import { describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs } from '../../client/retry.ts';

describe('retryAfterMs', () => {
  const nowMs = Date.parse('2026-11-23T12:00:00Z');

  it('reads delta-seconds', () => {
    expect(retryAfterMs('3', nowMs)).toBe(3000);
    expect(retryAfterMs(' 0 ', nowMs)).toBe(0);
  });

  it('reads an HTTP date as the time left until it, and a past date as now', () => {
    expect(retryAfterMs('Mon, 23 Nov 2026 12:00:05 GMT', nowMs)).toBe(5000);
    expect(retryAfterMs('Mon, 23 Nov 2026 11:59:00 GMT', nowMs)).toBe(0);
  });

  it('treats an absent or unparseable header as absent', () => {
    expect(retryAfterMs(null, nowMs)).toBeUndefined();
    expect(retryAfterMs('soon', nowMs)).toBeUndefined();
    expect(retryAfterMs('-1', nowMs)).toBeUndefined();
    expect(retryAfterMs('1.5', nowMs)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('doubles its ceiling per retry up to the cap, jittered below it', () => {
    expect([0, 1, 2, 3].map((retry) => backoffMs(retry, 500, 3000, 0.999_999))).toEqual([499, 999, 1999, 2999]);
    expect(backoffMs(2, 500, 3000, 0)).toBe(0);
    expect(backoffMs(40, 500, 3000, 0.5)).toBe(1500);
  });
});
