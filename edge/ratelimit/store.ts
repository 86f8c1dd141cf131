// Chooses where limits are counted, once per isolate: Upstash Redis when it is configured, else
// memory in this isolate (local development), which the log says once, at start.

import { Redis } from '@upstash/redis/cloudflare';
import { plans, type Plan } from '../../protocol/api-keys.ts';
import type { EdgeConfig } from '../config.ts';
import type { RateLimitOptions } from '../middleware/rate-limit.ts';
import { type Limiter, memoryLimiter, upstashLimiter } from './limiter.ts';
import { type RateLimitRule, ruleForFailedAuth, ruleForPlan, ruleForPublic } from './plans.ts';

export function rateLimitOptions(config: EdgeConfig, log: (line: string) => void, now: () => number): RateLimitOptions {
  const { plans: limits, timeoutMs, failureMode, analytics } = config.rateLimit;
  // Its own client, without retries: a retry cannot finish inside a timeout of a few hundred ms,
  // and the policy, not a retry loop, decides what an unanswered check means.
  const redis = config.redis && new Redis({ url: config.redis.url, token: config.redis.token, retry: false, enableTelemetry: false });
  if (!redis) log('UPSTASH_REDIS_REST_URL is not set: rate limits are counted in memory, per isolate (local development only)');
  const limiter = (prefix: string, rule: RateLimitRule): Limiter =>
    redis ? upstashLimiter({ redis, rule, prefix, timeoutMs, analytics }) : memoryLimiter(rule, now);
  return {
    perPlan: Object.fromEntries(plans.map((plan) => [plan, limiter(`ratelimit:plan:${plan}`, ruleForPlan(limits, plan))])) as Record<
      Plan,
      Limiter
    >,
    failedAuthPerIp: limiter('ratelimit:failed-auth:ip', ruleForFailedAuth(limits)),
    publicPerIp: limiter('ratelimit:public:ip', ruleForPublic(limits)),
    failureMode,
    log,
    now,
  };
}
