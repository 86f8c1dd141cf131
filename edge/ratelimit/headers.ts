// The RateLimit-* response headers (IETF draft-ietf-httpapi-ratelimit-headers, the three-field form).

export interface LimitResult {
  success: boolean;
  /** Requests allowed per window. */
  limit: number;
  remaining: number;
  /** When the window resets, in epoch milliseconds. */
  resetAtMs: number;
}

/** Seconds until the window resets, rounded up: a caller told 0 would retry into the same window. */
export function secondsUntilReset(resetAtMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((resetAtMs - nowMs) / 1000));
}

export function rateLimitHeaders(result: LimitResult, nowMs: number): Record<string, string> {
  return {
    'RateLimit-Limit': String(result.limit),
    'RateLimit-Remaining': String(Math.max(0, result.remaining)),
    'RateLimit-Reset': String(secondsUntilReset(result.resetAtMs, nowMs)),
  };
}
