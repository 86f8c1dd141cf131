// Each plan's terms: how many units of work (models/units.ts) it may use per window, what a unit costs
// and which monthly budgets apply; and how many failed authentications one client IP may make before
// it is refused outright. The numbers are defaults; RATE_LIMIT_*, PRICE_PER_UNIT_* and USAGE_BUDGETS
// override them (edge/config.ts).

import type { Plan } from '../../protocol/api-keys.ts';

export interface RateLimitRule {
  requests: number;
  windowMs: number;
}

export interface RateLimitPlans {
  /** Units of work per window for each plan, counted per key (or per JWT subject); a request costs at least one. */
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

/** What a unit of work costs on each plan, in whole micro-units of `currency` (exact sums). */
export interface PlanPrices {
  /** ISO 4217 code, e.g. USD. */
  currency: string;
  pricePerUnitMicros: Record<Plan, number>;
}

export const defaultPlanPrices: PlanPrices = { currency: 'USD', pricePerUnitMicros: { free: 0, pro: 100 } };

/** A monthly budget: units of work, or money (micro-units of the prices' currency), or both. */
export interface Budget {
  units?: number | undefined;
  costMicros?: number | undefined;
}

/** Monthly budgets by key id (`key_…`, or `jwt:<subject>`), and defaults by plan; a key's own wins. */
export interface Budgets {
  byKey: Record<string, Budget>;
  byPlan: Partial<Record<Plan, Budget>>;
}

export function budgetFor(budgets: Budgets, principal: { id: string; plan: Plan }): Budget | undefined {
  return budgets.byKey[principal.id] ?? budgets.byPlan[principal.plan];
}
