// The response cache of the model-running routes. For a deterministic model an identical request is
// answered from Workers' Cache API (per location) and, within an isolate, concurrent identical misses
// run once. Two places: `cachedAnswer`, inside the gate once the body's bytes are read (a hit is
// authenticated and counted against the plan, but never parsed or weighed), and `responseCache` around
// the handler (the canonical form of a request whose bytes missed, single flight, storing). Every
// answer says what the cache did in `Cache-Status` (RFC 9211); `Cache-Control: no-store` from the
// caller bypasses it. A hit is metered as one request at the manifest's hit price.

import type { Context, MiddlewareHandler } from 'hono';
import type { CachePolicy } from '../../models/manifest.ts';
import type { EdgeEnv } from '../context.ts';
import type { UsageMeter } from '../metering.ts';
import { cacheKeyHex, textPart } from './cache-key.ts';
import { SingleFlight } from './single-flight.ts';
import { prefersRespondAsync } from '../../protocol/jobs.ts';
import type { CacheableBytes, CanonicalRequest } from './cacheable.ts';

export const cacheStatusHeader = 'Cache-Status';
const cacheName = 'edgeinfer';
export const cacheStatus = {
  hit: `${cacheName}; hit`,
  stored: `${cacheName}; fwd=miss; stored`,
  notStored: `${cacheName}; fwd=miss`,
  collapsed: `${cacheName}; fwd=miss; collapsed`,
  noStore: `${cacheName}; fwd=bypass; detail=no-store`,
  notDeterministic: `${cacheName}; fwd=bypass; detail=not-deterministic`,
} as const;

/** An answer found for a request's bytes: `respond` meters it as a hit, once the plan has been charged `units`. */
export interface CachedAnswer {
  units: number;
  respond(): Response;
}

/** The part of the Cache API the cache uses (caches.default in a Worker). */
export interface ResponseStore {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

export interface ResponseCacheDeps {
  store: () => ResponseStore;
  meter: UsageMeter;
  now: () => number;
}

interface Captured {
  status: number;
  headers: [string, string][];
  body: ArrayBuffer;
}

// Not a host anyone resolves: the Cache API keys entries by URL, and this one names only the hash.
const keyUrl = (hex: string) => new Request(`https://edgeinfer-cache.internal/v1/${hex}`);
// Kept with a stored answer, never sent: what a hit is metered with, without parsing the request.
const inputElementsHeader = 'x-edgeinfer-cached-input-elements';
// Only the answer's own headers are kept; per-request ones (request id, rate limit) are set anew.
const kept = ['content-type', 'inference-header-content-length', 'x-edgeinfer-tier'];

function replay(captured: Captured, status: string): Response {
  const headers = new Headers(captured.headers);
  headers.set(cacheStatusHeader, status);
  return new Response(captured.body, { status: captured.status, headers });
}

function wantsNoStore(c: Context<EdgeEnv>): boolean {
  return (c.req.header('cache-control') ?? '').split(',').some((directive) => directive.trim().toLowerCase() === 'no-store');
}

/** A stored answer, answered as a hit: metered as one request at the manifest's hit price (tier `cache`). */
function hitAnswer(deps: ResponseCacheDeps, c: Context<EdgeEnv>, cacheable: CacheableBytes, found: Response): Response {
  const charged = meterHit(deps, c, cacheable, Number(found.headers.get(inputElementsHeader) ?? 0));
  const headers = new Headers(charged);
  for (const name of kept) if (found.headers.has(name)) headers.set(name, found.headers.get(name)!);
  headers.set(cacheStatusHeader, cacheStatus.hit);
  return new Response(found.body, { status: found.status, headers });
}

function meterHit(deps: ResponseCacheDeps, c: Context<EdgeEnv>, cacheable: CacheableBytes, inputElements: number): Record<string, string> {
  return deps.meter.charge(
    c.get('principal'),
    { model: cacheable.model, tier: 'cache', units: cacheable.policy.hitUnits, inputElements, computeMs: 0 },
    (work) => c.executionCtx.waitUntil(work),
  );
}

const scopeOf = (c: Context<EdgeEnv>, policy: CachePolicy) => textPart(policy.shared ? 'shared' : `owner:${c.get('principal').owner}`);
const rawKeyOf = async (c: Context<EdgeEnv>, cacheable: CacheableBytes) =>
  keyUrl(await cacheKeyHex([scopeOf(c, cacheable.policy), textPart('raw'), ...cacheable.rawParts]));

/**
 * Inside a route's gate, once its body is read and before it is parsed or weighed: an answer stored for
 * these exact bytes, or undefined (then the route goes on, and `responseCache` does not look them up
 * again). Not for `Cache-Control: no-store`, nor for `Prefer: respond-async`, which asks for a job.
 * A hit counts as one request against the plan, or the manifest's hit price if that is more.
 */
export function cachedAnswer(
  deps: ResponseCacheDeps | undefined,
  describe: (c: Context<EdgeEnv>) => CacheableBytes | undefined,
): (c: Context<EdgeEnv>) => Promise<CachedAnswer | undefined> {
  return async (c) => {
    if (!deps || wantsNoStore(c) || prefersRespondAsync(c.req.header('prefer'))) return undefined;
    const cacheable = describe(c);
    if (!cacheable?.policy.deterministic) return undefined;
    const rawKey = await rawKeyOf(c, cacheable);
    const found = await deps.store().match(rawKey);
    if (!found) {
      c.set('cacheMiss', { cacheable, rawKey });
      return undefined;
    }
    return { units: Math.max(1, cacheable.policy.hitUnits), respond: () => hitAnswer(deps, c, cacheable, found) };
  };
}

/**
 * Around a route's handler, after its gate: for a deterministic model, the answer stored under the
 * request's canonical form, or the handler's answer (run once for concurrent identical misses in this
 * isolate), stored under both keys.
 */
export function responseCache(
  deps: ResponseCacheDeps | undefined,
  describe: (c: Context<EdgeEnv>) => CacheableBytes | undefined,
  canonicalRequest: CanonicalRequest<Context<EdgeEnv>>,
): MiddlewareHandler<EdgeEnv> {
  const flights = new SingleFlight<Captured>();
  return async (c, next) => {
    if (!deps) return next();
    if (wantsNoStore(c)) {
      await next();
      c.res.headers.set(cacheStatusHeader, cacheStatus.noStore);
      return;
    }
    const missed = c.get('cacheMiss');
    const cacheable = missed?.cacheable ?? describe(c);
    if (!cacheable?.policy.deterministic) {
      await next();
      c.res.headers.set(cacheStatusHeader, cacheStatus.notDeterministic);
      return;
    }
    const store = deps.store();
    let rawKey = missed?.rawKey;
    if (!rawKey) {
      rawKey = await rawKeyOf(c, cacheable);
      const rawFound = await store.match(rawKey);
      if (rawFound) return hitAnswer(deps, c, cacheable, rawFound);
    }
    const canonical = canonicalRequest(c);
    const key = keyUrl(await cacheKeyHex([scopeOf(c, cacheable.policy), textPart('canonical'), ...canonical.parts]));
    const found = await store.match(key);
    if (found) {
      const answer = hitAnswer(deps, c, cacheable, found.clone());
      // These bytes will be found without parsing next time.
      c.executionCtx.waitUntil(store.put(rawKey, found));
      return answer;
    }

    const storedUnder = rawKey;
    const { value, leader } = await flights.run(key.url, async () => {
      await next();
      const body = await c.res.arrayBuffer();
      const headers = kept.flatMap((name) => (c.res.headers.has(name) ? [[name, c.res.headers.get(name)!] as [string, string]] : []));
      const captured: Captured = { status: c.res.status, headers, body };
      if (c.res.status === 200) {
        const stored = new Headers(headers);
        stored.set('cache-control', `max-age=${cacheable.policy.ttlSeconds}`);
        stored.set(inputElementsHeader, String(canonical.inputElements));
        // Awaited, so `stored` is true when said and the next identical request finds it.
        await Promise.all([
          store.put(key, new Response(body, { status: 200, headers: stored })),
          store.put(storedUnder, new Response(body, { status: 200, headers: stored })),
        ]);
      }
      // The leader's own answer keeps every header its route set.
      c.res = new Response(body, c.res);
      c.res.headers.set(cacheStatusHeader, c.res.status === 200 ? cacheStatus.stored : cacheStatus.notStored);
      return captured;
    });
    if (leader) return;
    // A follower's answer came from the leader's run: no model ran for it, so it is metered as a hit.
    const answer = replay(value, cacheStatus.collapsed);
    if (value.status === 200)
      for (const [name, charged] of Object.entries(meterHit(deps, c, cacheable, canonical.inputElements)))
        answer.headers.set(name, charged);
    return answer;
  };
}
