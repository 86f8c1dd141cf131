// Rate limiting around authentication, in the order that makes guessing keys expensive:
//   authenticate (taking one failed-authentication attempt of the address first) → authorize → limitByPlan
// An address whose attempts are used up is refused (429) before its credential is looked up; an
// attempt is taken atomically in the store before each lookup and given back when the credential was
// valid, so a concurrent burst looks up at most the limit; an authenticated caller is counted against
// its plan. Public routes are counted per address. Each sets the RateLimit-* headers on its answers.

import type { Context, MiddlewareHandler } from 'hono';
import type { AuditLog } from '../../protocol/audit.ts';
import type { Plan } from '../../protocol/api-keys.ts';
import { HttpError, Overloaded, PayloadTooLarge, TooManyRequests } from '../../protocol/errors.ts';
import type { AuthAttempt, AuthAttempts } from '../auth/middleware.ts';
import type { EdgeEnv } from '../context.ts';
import { unitsHeader } from '../metering.ts';
import { type LimitResult, rateLimitHeaders, secondsUntilReset } from '../ratelimit/headers.ts';
import type { Limiter } from '../ratelimit/limiter.ts';
import { clientIp } from './client-ip.ts';

// `open` is the default (edge/config.ts): an outage of the limiter's store should not take the paid
// API down with it. Authentication does not depend on Redis, so an outage lets known callers exceed
// their plan, not strangers in; `closed` is for deployments where over-use costs more than downtime.
export type RateLimitFailureMode = 'open' | 'closed';

export interface RateLimitOptions {
  perPlan: Record<Plan, Limiter>;
  failedAuthPerIp: Limiter;
  /** Requests per window per address on the routes that need no credential (metadata, health, docs, playground). */
  publicPerIp: Limiter;
  /** What happens when the limiter's store is slow or down: serve unlimited, or refuse with 503. */
  failureMode: RateLimitFailureMode;
  log: (line: string) => void;
  now: () => number;
}

/** Addresses refused in this isolate, kept at most this many (expired ones are swept first). */
const maxBlockedIps = 10_000;

function tooManyRequests(message: string, result: LimitResult, nowMs: number): TooManyRequests {
  const err = new TooManyRequests(message, secondsUntilReset(result.resetAtMs, nowMs));
  Object.assign(err.headers, rateLimitHeaders(result, nowMs));
  return err;
}

type Which = 'plan' | 'failed-auth-ip' | 'public-ip';

/**
 * Counts `units` (negative: gives them back), or, when the store did not answer in time, applies the
 * failure policy: `open` answers undefined (serve without a limit), `closed` throws 503. Either way
 * one log line says so.
 */
async function count(
  options: RateLimitOptions,
  limiter: Limiter,
  identifier: string,
  which: Which,
  c: Context<EdgeEnv>,
  units = 1,
): Promise<LimitResult | undefined> {
  // Analytics and other writes after the decision: off the response path, but kept alive past it.
  const check = await limiter.check(identifier, (work) => c.executionCtx.waitUntil(work.catch(() => {})), units);
  if (check.outcome === 'counted') return check.result;
  options.log(
    JSON.stringify({
      event: 'rate-limiter-unavailable',
      requestId: c.get('trace')?.requestId,
      limiter: which,
      reason: check.reason,
      detail: check.detail,
      failureMode: options.failureMode,
      action: options.failureMode === 'open' ? 'served without a limit' : 'refused with 503',
    }),
  );
  if (options.failureMode === 'closed') throw new Overloaded('rate limiting is unavailable; try again shortly', 1);
  return undefined;
}

const throttledMessage = 'too many failed authentications from this address';

/**
 * The failed-authentication allowance of each client address, for `authenticate`: an attempt is one
 * unit taken atomically (one script in Redis) before the credential is looked up, and given back in
 * the background once the credential proved valid. An address refused once is refused in this
 * isolate without a round trip until its window resets.
 */
export function failedAuthAttempts(options: RateLimitOptions, audit: AuditLog): AuthAttempts {
  const blocked = new Map<string, LimitResult>();
  const block = (ip: string, result: LimitResult) => {
    if (blocked.size >= maxBlockedIps) for (const [other, r] of blocked) if (r.resetAtMs <= options.now()) blocked.delete(other);
    if (blocked.size < maxBlockedIps) blocked.set(ip, result);
  };
  const refuse = (c: Context<EdgeEnv>, ip: string, result: LimitResult) => {
    audit({ event: 'auth-throttled', ip, path: new URL(c.req.url).pathname, requestId: c.get('trace')?.requestId });
    return tooManyRequests(throttledMessage, result, options.now());
  };
  return {
    refuseIfBlocked(c) {
      const ip = clientIp(c);
      const refusal = blocked.get(ip);
      if (refusal && refusal.resetAtMs > options.now()) throw refuse(c, ip, refusal);
      if (refusal) blocked.delete(ip);
    },
    async take(c): Promise<AuthAttempt> {
      const ip = clientIp(c);
      const result = await count(options, options.failedAuthPerIp, ip, 'failed-auth-ip', c);
      if (result && !result.success) {
        block(ip, result);
        throw refuse(c, ip, result);
      }
      return {
        succeeded() {
          // Given back after the answer: a valid credential costs its address nothing.
          if (result) c.executionCtx.waitUntil(count(options, options.failedAuthPerIp, ip, 'failed-auth-ip', c, -1).catch(() => {}));
        },
        failed(err: HttpError) {
          if (result) Object.assign(err.headers, rateLimitHeaders(result, options.now()));
        },
      };
    },
  };
}

/**
 * Counts an authenticated caller's request against its plan: one unit, or what `units` says it
 * weighs (a task's seconds of audio or megapixels, read from the file's header by then). A request
 * that weighs more than the plan allows in a whole window could never be served: 413, not a 429
 * whose Retry-After cannot help.
 */
export function limitByPlan(options: RateLimitOptions, units: (c: Context<EdgeEnv>) => number = () => 1): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const limiter = options.perPlan[principal.plan];
    const weight = units(c);
    if (weight > limiter.rule.requests) {
      throw new PayloadTooLarge(
        `this request weighs ${weight} units of work, more than the ${principal.plan} plan's whole limit of ${limiter.rule.requests} per ${limiter.rule.windowMs / 1000} s: send less in one request (shorter recordings, fewer or smaller images)`,
      );
    }
    const result = await count(options, limiter, principal.id, 'plan', c, weight);
    if (!result) return next();
    if (!result.success) throw tooManyRequests(`rate limit of the ${principal.plan} plan reached`, result, options.now());
    try {
      await next();
    } catch (err) {
      // Thrown by what runs after it inside the same gate (a bad body): answered by onError.
      if (err instanceof HttpError) Object.assign(err.headers, rateLimitHeaders(result, options.now()));
      throw err;
    }
    // A GPU run costs the run time the backend signed when that is more than its work (models/units.ts),
    // known only now: the rest is counted after the answer, off its path, and the headers say what is
    // left once it is. (A run that overshoots the window is served: it was admitted on what it weighed.)
    const beyondWeight = chargedUnits(c.res) - weight;
    if (beyondWeight > 0) c.executionCtx.waitUntil(count(options, limiter, principal.id, 'plan', c, beyondWeight).catch(() => {}));
    const left = { ...result, remaining: result.remaining - Math.max(0, beyondWeight) };
    for (const [name, value] of Object.entries(rateLimitHeaders(left, options.now()))) c.header(name, value);
  };
}

/** What the answer says it was charged (`x-edgeinfer-units`); 0 where it says nothing (a 202, a route without a model). */
function chargedUnits(response: Response): number {
  const units = Number(response.headers.get(unitsHeader) ?? 0);
  return Number.isSafeInteger(units) ? units : 0;
}

/** Requests per client address on the routes that need no credential, so none of them is free to flood. */
export function limitPublicByIp(options: RateLimitOptions): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const result = await count(options, options.publicPerIp, clientIp(c), 'public-ip', c);
    if (result && !result.success) throw tooManyRequests('too many requests from this address', result, options.now());
    await next();
    if (result) for (const [name, value] of Object.entries(rateLimitHeaders(result, options.now()))) c.header(name, value);
  };
}
