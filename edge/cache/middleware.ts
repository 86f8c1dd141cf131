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

/** What the route says about a request before it runs: the policy of its model(s) and its canonical parts. */
export interface Cacheable {
  policy: CachePolicy;
  parts: Uint8Array[];
  /** Metered on a hit as the synchronous call would be. */
  inputElements: number;
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
    const scope = cacheable.policy.shared ? 'shared' : `owner:${principal.owner}`;
    const key = keyUrl(await cacheKeyHex([textPart(scope), ...cacheable.parts]));
    const store = deps.store();
    const meterHit = () =>
      c.executionCtx.waitUntil(
        deps.meter.record({
          keyId: principal.id,
          atMs: deps.now(),
          inputElements: cacheable.inputElements,
          computeMs: 0,
          tier: 'cache',
          cacheHit: { computeUnits: cacheable.policy.hitUnits },
        }),
      );

    const found = await store.match(key);
    if (found) {
      meterHit();
      const headers = new Headers();
      for (const name of kept) if (found.headers.has(name)) headers.set(name, found.headers.get(name)!);
      headers.set(cacheStatusHeader, cacheStatus.hit);
      return new Response(found.body, { status: found.status, headers });
    }

    const { value, leader } = await flights.run(key.url, async () => {
      await next();
      const body = await c.res.arrayBuffer();
      const headers = kept.flatMap((name) => (c.res.headers.has(name) ? [[name, c.res.headers.get(name)!] as [string, string]] : []));
      const captured: Captured = { status: c.res.status, headers, body };
      if (c.res.status === 200) {
        const stored = new Headers(headers);
        stored.set('cache-control', `max-age=${cacheable.policy.ttlSeconds}`);
        // Awaited, so `stored` is true when said and the next identical request finds it.
        await store.put(key, new Response(body, { status: 200, headers: stored }));
      }
      // The leader's own answer keeps every header its route set.
      c.res = new Response(body, c.res);
      c.res.headers.set(cacheStatusHeader, c.res.status === 200 ? cacheStatus.stored : cacheStatus.notStored);
      return captured;
    });
    if (leader) return;
    // A follower's answer came from the leader's run: no model ran for it, so it is metered as a hit.
    if (value.status === 200) meterHit();
    return replay(value, cacheStatus.collapsed);
  };
}
