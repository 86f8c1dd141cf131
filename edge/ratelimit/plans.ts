// How many requests each plan may make per window, and how many failed authentications one client IP
// may make before it is refused outright. The numbers are defaults; RATE_LIMIT_* variables override them.

import type { Plan } from '../../protocol/api-keys.ts';

export interface RateLimitRule {
  requests: number;
  windowMs: number;
}

export interface RateLimitPlans {
  /** Requests per window for each plan, counted per key (or per JWT subject). */
  requestsPerPlan: Record<Plan, number>;
  /** Failed authentications per window for one client IP; past it every request from that IP gets 429. */
  failedAuthPerIp: number;
  /** Requests per window for one client IP on the routes that need no credential. */
  publicPerIp: number;
  windowMs: number;
}

export const defaultRateLimitPlans: RateLimitPlans = {
  requestsPerPlan: { free: 60, pro: 600 },
  failedAuthPerIp: 20,
  publicPerIp: 300,
  windowMs: 60_000,
};

export function ruleForPlan(plans: RateLimitPlans, plan: Plan): RateLimitRule {
  return { requests: plans.requestsPerPlan[plan], windowMs: plans.windowMs };
}

export function ruleForFailedAuth(plans: RateLimitPlans): RateLimitRule {
  return { requests: plans.failedAuthPerIp, windowMs: plans.windowMs };
}

export function ruleForPublic(plans: RateLimitPlans): RateLimitRule {
  return { requests: plans.publicPerIp, windowMs: plans.windowMs };
}
