// The response cache around a model-running route, after its gate (a hit is still authenticated and
// counted against the plan). For a deterministic model an identical request is answered from Workers'
// Cache API (per location) and, within an isolate, concurrent identical misses run once. Every answer
// says what the cache did in `Cache-Status` (RFC 9211); `Cache-Control: no-store` from the caller
// bypasses it. A hit is metered as one request at the manifest's hit price.

import type { Context, MiddlewareHandler } from 'hono';
import type { CachePolicy } from '../../models/manifest.ts';
import type { EdgeEnv } from '../context.ts';
import type { UsageMeter } from '../metering.ts';
import { cacheKeyHex, textPart } from './cache-key.ts';
import { SingleFlight } from './single-flight.ts';

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

/** What the route says about a request before it runs: its model's policy and how to key it. */
export interface Cacheable {
  /** What the usage record names: the model for `/v2`, `task:<name>` for a task route. */
  model: string;
  policy: CachePolicy;
  /**
   * The request's bytes as sent, with what frames them (model, version, media type): identical bytes
   * are an identical request, found without parsing them.
   */
  rawParts: Uint8Array[];
  /**
   * The request's canonical parts, computed only when its raw bytes missed: a request that differs
   * only in JSON key order or whitespace finds the same entry.
   */
  canonical: () => { parts: Uint8Array[]; inputElements: number };
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

export function responseCache(
  deps: ResponseCacheDeps | undefined,
  describe: (c: Context<EdgeEnv>) => Promise<Cacheable | undefined>,
): MiddlewareHandler<EdgeEnv> {
  const flights = new SingleFlight<Captured>();
  return async (c, next) => {
    if (!deps) return next();
    if (wantsNoStore(c)) {
      await next();
      c.res.headers.set(cacheStatusHeader, cacheStatus.noStore);
      return;
    }
    const cacheable = await describe(c);
    if (!cacheable?.policy.deterministic) {
      await next();
      c.res.headers.set(cacheStatusHeader, cacheStatus.notDeterministic);
      return;
    }
    const principal = c.get('principal');
    const scope = textPart(cacheable.policy.shared ? 'shared' : `owner:${principal.owner}`);
    const store = deps.store();
    // A hit is one request at the manifest's hit price (tier `cache`): no model ran for it.
    const meterHit = (inputElements: number) =>
      deps.meter.charge(
        principal,
        { model: cacheable.model, tier: 'cache', units: cacheable.policy.hitUnits, inputElements, computeMs: 0 },
        (work) => c.executionCtx.waitUntil(work),
      );
    const answerHit = (found: Response) => {
      const charged = meterHit(Number(found.headers.get(inputElementsHeader) ?? 0));
      const headers = new Headers(charged);
      for (const name of kept) if (found.headers.has(name)) headers.set(name, found.headers.get(name)!);
      headers.set(cacheStatusHeader, cacheStatus.hit);
      return new Response(found.body, { status: found.status, headers });
    };

    const rawKey = keyUrl(await cacheKeyHex([scope, textPart('raw'), ...cacheable.rawParts]));
    const rawFound = await store.match(rawKey);
    if (rawFound) return answerHit(rawFound);
    const canonical = cacheable.canonical();
    const key = keyUrl(await cacheKeyHex([scope, textPart('canonical'), ...canonical.parts]));
    const found = await store.match(key);
    if (found) {
      const answer = answerHit(found.clone());
      // These bytes will be found without parsing next time.
      c.executionCtx.waitUntil(store.put(rawKey, found));
      return answer;
    }

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
          store.put(rawKey, new Response(body, { status: 200, headers: stored })),
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
      for (const [name, charged] of Object.entries(meterHit(canonical.inputElements))) answer.headers.set(name, charged);
    return answer;
  };
}
