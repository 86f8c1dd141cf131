// The pure parts of rate limiting: headers, plan rules, the in-memory sliding window, its config.

import { describe, expect, it } from 'vitest';
import { ConfigError, parseEdgeConfig } from '../../edge/config.ts';
import { rateLimitHeaders, secondsUntilReset } from '../../edge/ratelimit/headers.ts';
import { MemorySlidingWindow } from '../../edge/ratelimit/memory-limiter.ts';
import { defaultRateLimitPlans, ruleForFailedAuth, ruleForPlan } from '../../edge/ratelimit/plans.ts';

const kv = { get: async () => null };

describe('rateLimitHeaders', () => {
  it('gives the limit, what remains and whole seconds until the reset, rounded up', () => {
    expect(rateLimitHeaders({ success: true, limit: 60, remaining: 59, resetAtMs: 10_001 }, 0)).toEqual({
      'RateLimit-Limit': '60',
      'RateLimit-Remaining': '59',
      'RateLimit-Reset': '11',
    });
  });

  it('never reports a negative remainder or a reset in the past', () => {
    expect(rateLimitHeaders({ success: false, limit: 3, remaining: -2, resetAtMs: 500 }, 1_000)).toMatchObject({
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '0',
    });
    expect(secondsUntilReset(1_000, 1_000)).toBe(0);
    expect(secondsUntilReset(1_001, 1_000)).toBe(1);
  });
});

describe('plan rules', () => {
  it('limits free to 60 and pro to 600 requests a minute, and 20 failed authentications per IP', () => {
    expect(ruleForPlan(defaultRateLimitPlans, 'free')).toEqual({ requests: 60, windowMs: 60_000 });
    expect(ruleForPlan(defaultRateLimitPlans, 'pro')).toEqual({ requests: 600, windowMs: 60_000 });
    expect(ruleForFailedAuth(defaultRateLimitPlans)).toEqual({ requests: 20, windowMs: 60_000 });
  });

  it('takes the defaults from config, and overrides from RATE_LIMIT_* variables', () => {
    expect(parseEdgeConfig({ API_KEYS: kv }).rateLimit).toEqual({
      plans: defaultRateLimitPlans,
      timeoutMs: 150,
      failureMode: 'open',
      analytics: false,
    });
    const config = parseEdgeConfig({
      API_KEYS: kv,
      RATE_LIMIT_FREE: '5',
      RATE_LIMIT_PRO: '50',
      RATE_LIMIT_FAILED_AUTH_PER_IP: '3',
      RATE_LIMIT_PUBLIC_PER_IP: '30',
      RATE_LIMIT_WINDOW_MS: '1000',
      RATE_LIMIT_TIMEOUT_MS: '80',
      RATE_LIMIT_FAILURE_MODE: 'closed',
      RATE_LIMIT_ANALYTICS: 'true',
    });
    expect(config.rateLimit).toEqual({
      plans: { requestsPerPlan: { free: 5, pro: 50 }, failedAuthPerIp: 3, publicPerIp: 30, windowMs: 1000 },
      timeoutMs: 80,
      failureMode: 'closed',
      analytics: true,
    });
  });

  it('refuses an unknown failure mode or a zero limit, naming the variable', () => {
    expect(() => parseEdgeConfig({ API_KEYS: kv, RATE_LIMIT_FAILURE_MODE: 'sometimes' })).toThrow(
      /RATE_LIMIT_FAILURE_MODE: 'open' or 'closed'/,
    );
    expect(() => parseEdgeConfig({ API_KEYS: kv, RATE_LIMIT_FREE: '0' })).toThrow(/RATE_LIMIT_FREE/);
  });
});

describe('UNSAFE_LOCAL_BENCHMARK_NO_AUTH', () => {
  it('is honoured only with a loopback BACKEND_URL, so no deployed Worker can run without authentication', () => {
    expect(parseEdgeConfig({ API_KEYS: kv }).gatewayChecks).toBe(true);
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080']) {
      expect(parseEdgeConfig({ API_KEYS: kv, BACKEND_URL: url, UNSAFE_LOCAL_BENCHMARK_NO_AUTH: 'true' }).gatewayChecks).toBe(false);
    }
    for (const env of [{}, { BACKEND_URL: 'https://backend.example.run.app' }, { BACKEND_URL: 'http://127.0.0.1.example.com' }]) {
      expect(() => parseEdgeConfig({ API_KEYS: kv, ...env, UNSAFE_LOCAL_BENCHMARK_NO_AUTH: 'true' })).toThrow(ConfigError);
    }
    expect(() => parseEdgeConfig({ API_KEYS: kv, BACKEND_URL: 'http://127.0.0.1:8080', UNSAFE_LOCAL_BENCHMARK_NO_AUTH: 'yes' })).toThrow(
      /UNSAFE_LOCAL_BENCHMARK_NO_AUTH/,
    );
  });
});

describe('MemorySlidingWindow', () => {
  it('allows the limit in a window, refuses the next without counting it, and resets at the window end', () => {
    let now = 10_000;
    const window = new MemorySlidingWindow({ requests: 3, windowMs: 1_000 }, () => now);
    expect([1, 2, 3, 4].map(() => window.limit('a'))).toEqual([
      { success: true, limit: 3, remaining: 2, resetAtMs: 11_000 },
      { success: true, limit: 3, remaining: 1, resetAtMs: 11_000 },
      { success: true, limit: 3, remaining: 0, resetAtMs: 11_000 },
      { success: false, limit: 3, remaining: 0, resetAtMs: 11_000 },
    ]);
    expect(window.limit('b').success).toBe(true);
    // Half-way through the next window half of the previous one still counts (floor(1.5) = 1).
    now = 11_500;
    expect(window.limit('a')).toEqual({ success: true, limit: 3, remaining: 1, resetAtMs: 12_000 });
    expect(window.limit('a')).toEqual({ success: true, limit: 3, remaining: 0, resetAtMs: 12_000 });
    expect(window.limit('a').success).toBe(false);
    // Two windows on, nothing of the first counts.
    now = 13_000;
    expect(window.limit('a')).toMatchObject({ success: true, remaining: 2 });
  });

  it('counts a weighted request as its units, and refuses it whole when they do not all fit', () => {
    const window = new MemorySlidingWindow({ requests: 10, windowMs: 1_000 }, () => 10_000);
    expect(window.limit('a', 6)).toMatchObject({ success: true, remaining: 4 });
    // Five units do not fit in the four left: refused, nothing counted, the four still there.
    expect(window.limit('a', 5)).toMatchObject({ success: false, remaining: 4 });
    expect(window.limit('a', 4)).toMatchObject({ success: true, remaining: 0 });
    expect(window.limit('a').success).toBe(false);
  });
});

describe('MemorySlidingWindow refunds', () => {
  it('gives back units taken earlier (a valid credential returns its failed-authentication attempt), never below zero', () => {
    const window = new MemorySlidingWindow({ requests: 2, windowMs: 1_000 }, () => 10_000);
    expect(window.limit('ip', 1)).toMatchObject({ success: true, remaining: 1 });
    expect(window.limit('ip', 1)).toMatchObject({ success: true, remaining: 0 });
    expect(window.limit('ip', 1).success).toBe(false);
    // A refund is never refused, even at the limit.
    expect(window.limit('ip', -1)).toMatchObject({ success: true, remaining: 1 });
    expect(window.limit('ip', 1)).toMatchObject({ success: true, remaining: 0 });
    expect(window.limit('other', -1)).toMatchObject({ success: true, remaining: 2 });
  });
});
