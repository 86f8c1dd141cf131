// Rate limiting around authentication, in the order that makes guessing keys expensive:
//   limitFailedAuthByIp → authenticate → limitByPlan
// An IP whose failed authentications passed their limit is refused (429) before its credential is
// even looked up; every other failed authentication is counted against its IP; an authenticated
// caller is counted against its key's plan. Both set the RateLimit-* headers on what they answer.

import type { Context, MiddlewareHandler } from 'hono';
import { HttpError, Overloaded, TooManyRequests } from '../../protocol/errors.ts';
import type { Plan } from '../../protocol/api-keys.ts';
import type { EdgeEnv } from '../context.ts';
import { type LimitResult, rateLimitHeaders, secondsUntilReset } from '../ratelimit/headers.ts';
import type { Limiter } from '../ratelimit/limiter.ts';

// `open` is the default (edge/config.ts): an outage of the limiter's store should not take the paid
// API down with it. Authentication does not depend on Redis, so an outage lets known callers exceed
// their plan, not strangers in; `closed` is for deployments where over-use costs more than downtime.
export type RateLimitFailureMode = 'open' | 'closed';

export interface RateLimitOptions {
  perPlan: Record<Plan, Limiter>;
  failedAuthPerIp: Limiter;
  /** What happens when the limiter's store is slow or down: serve unlimited, or refuse with 503. */
  failureMode: RateLimitFailureMode;
  log: (line: string) => void;
  now: () => number;
}

/** Cloudflare sets CF-Connecting-IP on every request it delivers; locally (wrangler dev) all callers share one. */
const localClient = 'local';
const clientIp = (c: Context<EdgeEnv>) => c.req.header('cf-connecting-ip') ?? localClient;

/** IPs refused in this isolate, kept at most this many (expired ones are swept first). */
const maxBlockedIps = 10_000;

function tooManyRequests(message: string, result: LimitResult, nowMs: number): TooManyRequests {
  const err = new TooManyRequests(message, secondsUntilReset(result.resetAtMs, nowMs));
  Object.assign(err.headers, rateLimitHeaders(result, nowMs));
  return err;
}

/**
 * Counts one request, or, when the store did not answer in time, applies the failure policy: `open`
 * answers undefined (serve without a limit), `closed` throws 503. Either way one log line says so.
 */
async function count(
  options: RateLimitOptions,
  limiter: Limiter,
  identifier: string,
  which: 'plan' | 'failed-auth-ip',
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

export function limitFailedAuthByIp(options: RateLimitOptions): MiddlewareHandler<EdgeEnv> {
  const blocked = new Map<string, LimitResult>();
  const block = (ip: string, result: LimitResult) => {
    if (blocked.size >= maxBlockedIps) for (const [other, r] of blocked) if (r.resetAtMs <= options.now()) blocked.delete(other);
    if (blocked.size < maxBlockedIps) blocked.set(ip, result);
  };
  return async (c, next) => {
    const ip = clientIp(c);
    const refusal = blocked.get(ip);
    if (refusal && refusal.resetAtMs > options.now())
      throw tooManyRequests('too many failed authentications from this address', refusal, options.now());
    if (refusal) blocked.delete(ip);
    try {
      await next();
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 401) throw err;
      const result = await count(options, options.failedAuthPerIp, ip, 'failed-auth-ip', c);
      if (!result) throw err;
      if (!result.success) {
        block(ip, result);
        throw tooManyRequests('too many failed authentications from this address', result, options.now());
      }
      Object.assign(err.headers, rateLimitHeaders(result, options.now()));
      throw err;
    }
  };
}

/**
 * Counts an authenticated caller's request against its plan: one unit, or what `units` says it
 * weighs (a task's seconds of audio or megapixels, read from the file's header by then).
 */
export function limitByPlan(options: RateLimitOptions, units: (c: Context<EdgeEnv>) => number = () => 1): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const result = await count(options, options.perPlan[principal.plan], principal.id, 'plan', c, units(c));
    if (!result) return next();
    if (!result.success) throw tooManyRequests(`rate limit of the ${principal.plan} plan reached`, result, options.now());
    const headers = rateLimitHeaders(result, options.now());
    try {
      await next();
    } catch (err) {
      // Thrown by what runs after it inside the same guard (403 for a model): answered by onError.
      if (err instanceof HttpError) Object.assign(err.headers, headers);
      throw err;
    }
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
}
