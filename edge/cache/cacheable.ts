// What a model-running route tells the response cache about a request (edge/cache/middleware.ts),
// apart from the middleware so the request context (edge/context.ts) can name it without a cycle.

import type { CachePolicy } from '../../models/manifest.ts';

/** What a route says about a request once its bytes are read, before anything parses them. */
export interface CacheableBytes {
  /** What the usage record names: the model for `/v2`, `task:<name>` for a task route. */
  model: string;
  policy: CachePolicy;
  /**
   * The request's bytes as sent, with what frames them (model, version, media type): identical bytes
   * are an identical request, found without parsing them.
   */
  rawParts: Uint8Array[];
}

/**
 * The request's canonical parts, once the route has parsed it and only when its raw bytes missed: a
 * request that differs only in JSON key order or whitespace finds the same entry.
 */
export type CanonicalRequest<C> = (c: C) => { parts: Uint8Array[]; inputElements: number };

/** Set on the context by `cachedAnswer` when it looked the bytes up and missed: not looked up twice. */
export interface CacheMiss {
  cacheable: CacheableBytes;
  rawKey: Request;
}
