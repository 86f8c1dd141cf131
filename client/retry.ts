// When to try again: the server's `Retry-After` when it gave one, exponential backoff with full
// jitter when it did not. Pure, so the policy is tested without a clock.

/** Statuses that say the server refused the work before doing it, and may take it later. */
export const retryableStatuses: ReadonlySet<number> = new Set([429, 503]);

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * A date in the past means now; anything unparseable means the header is absent.
 */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Every HTTP-date form names a month; Date.parse alone would take '-1' or '1.5' for years.
  const dateMs = /[a-z]{3}/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}

/**
 * Full-jitter backoff (uniform in [0, min(cap, base·2^retry))), so callers refused together do not
 * come back together. `retry` counts from 0; `random` is in [0, 1).
 */
export function backoffMs(retry: number, baseMs: number, capMs: number, random: number): number {
  return Math.floor(random * Math.min(capMs, baseMs * 2 ** retry));
}
