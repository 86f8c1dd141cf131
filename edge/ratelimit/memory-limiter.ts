// The in-memory limiter for local development without Upstash: the same sliding window as
// @upstash/ratelimit's `slidingWindow` script (the previous window weighted by how much of it still
// overlaps, a refused request not counted), per isolate, so headers and 429s look alike.

import type { LimitResult } from './headers.ts';
import type { RateLimitRule } from './plans.ts';

export class MemorySlidingWindow {
  readonly #rule: RateLimitRule;
  readonly #now: () => number;
  /** `identifier:window` → requests counted in that window; windows older than the previous are dropped. */
  readonly #counts = new Map<string, number>();
  #sweptBefore = 0;

  constructor(rule: RateLimitRule, now: () => number) {
    this.#rule = rule;
    this.#now = now;
  }

  /**
   * Counts `units` against `identifier`, or refuses them all (a refused request counts nothing).
   * Negative units give back what was taken, as @upstash/ratelimit's script does for a negative rate.
   */
  limit(identifier: string, units = 1): LimitResult {
    const { requests, windowMs } = this.#rule;
    const now = this.#now();
    const current = Math.floor(now / windowMs);
    this.#forgetBefore(current - 1);
    const inCurrent = this.#counts.get(`${identifier}:${current}`) ?? 0;
    const inPrevious = Math.floor((1 - (now % windowMs) / windowMs) * (this.#counts.get(`${identifier}:${current - 1}`) ?? 0));
    const resetAtMs = (current + 1) * windowMs;
    if (units > 0 && inPrevious + inCurrent + units > requests)
      return { success: false, limit: requests, remaining: Math.max(0, requests - inPrevious - inCurrent), resetAtMs };
    this.#counts.set(`${identifier}:${current}`, Math.max(0, inCurrent + units));
    return { success: true, limit: requests, remaining: requests - (Math.max(0, inCurrent + units) + inPrevious), resetAtMs };
  }

  /** Once per window, not per request: the sweep walks every identifier. */
  #forgetBefore(window: number): void {
    if (window <= this.#sweptBefore) return;
    this.#sweptBefore = window;
    for (const key of this.#counts.keys()) {
      if (Number(key.slice(key.lastIndexOf(':') + 1)) < window) this.#counts.delete(key);
    }
  }
}
