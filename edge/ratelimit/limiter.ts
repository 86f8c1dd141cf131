// One limiter interface over two stores: Upstash Redis through @upstash/ratelimit (production), or
// memory in this isolate (local development without Upstash). A store that is slow or down is not
// an answer: `check` says `unavailable`, and the caller applies the configured failure policy.

import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis/cloudflare';
import type { LimitResult } from './headers.ts';
import { MemorySlidingWindow } from './memory-limiter.ts';
import type { RateLimitRule } from './plans.ts';

export type LimitCheck =
  | { outcome: 'counted'; result: LimitResult }
  | { outcome: 'unavailable'; reason: 'timeout' | 'error'; detail: string };

export interface Limiter {
  /** What it allows: `requests` units per `windowMs`. */
  readonly rule: RateLimitRule;
  /**
   * Counts `units` (one request, or a task's weight) for `identifier`, atomically: the check and the
   * count are one step in the store, so concurrent callers never both take the last unit. Negative
   * units give back what an earlier call took (never refused). `background` receives writes that
   * must not delay the answer (analytics); the middleware hands it to `executionCtx.waitUntil`.
   */
  check(identifier: string, background: (work: Promise<unknown>) => void, units?: number): Promise<LimitCheck>;
}

export interface UpstashLimiterOptions {
  redis: Redis;
  rule: RateLimitRule;
  /** Keys are `<prefix>:<identifier>:<window>`; one prefix per rule, so plans never share a counter. */
  prefix: string;
  /** How long the answer may take before the limiter counts as unavailable. */
  timeoutMs: number;
  /** Upstash's dashboard analytics: one more write per request, always in the background. */
  analytics: boolean;
}

export function upstashLimiter(options: UpstashLimiterOptions): Limiter {
  const ratelimit = new Ratelimit({
    redis: options.redis,
    limiter: Ratelimit.slidingWindow(options.rule.requests, `${options.rule.windowMs} ms`),
    prefix: options.prefix,
    // On timeout @upstash/ratelimit resolves `success: true, reason: 'timeout'`: it always fails
    // open. The reason is kept, so the policy, not the library, decides.
    timeout: options.timeoutMs,
    analytics: options.analytics,
    enableProtection: false,
    // The default ephemeral cache: an identifier found over its limit is refused in this isolate
    // until its window resets, without a round trip.
  });
  return {
    rule: options.rule,
    async check(identifier, background, units = 1) {
      try {
        const response = await ratelimit.limit(identifier, { rate: units });
        background(response.pending);
        if (response.reason === 'timeout')
          return { outcome: 'unavailable', reason: 'timeout', detail: `no answer within ${options.timeoutMs} ms` };
        return {
          outcome: 'counted',
          result: { success: response.success, limit: response.limit, remaining: response.remaining, resetAtMs: response.reset },
        };
      } catch (err) {
        return { outcome: 'unavailable', reason: 'error', detail: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

export function memoryLimiter(rule: RateLimitRule, now: () => number): Limiter {
  const window = new MemorySlidingWindow(rule, now);
  return {
    rule,
    async check(identifier, _background, units = 1) {
      return { outcome: 'counted', result: window.limit(identifier, units) };
    },
  };
}
