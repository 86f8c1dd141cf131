// Requires the edge's HMAC signature (protocol/signature.ts) on the buffered body. Turned off only by
// an explicit setting for local development, which main.ts logs as a warning.

import type { MiddlewareHandler } from 'hono';
import { verifyRequest } from '../../protocol/signature.ts';
import type { BackendEnv } from './body.ts';

export interface EdgeSignatureOptions {
  /** undefined lets every request through (EDGE_SIGNATURE_REQUIRED=false). */
  secret: string | undefined;
  now?: () => number;
}

export function edgeSignature(options: EdgeSignatureOptions): MiddlewareHandler<BackendEnv> {
  const { secret } = options;
  const now = options.now ?? Date.now;
  if (secret === undefined) return (_c, next) => next();
  return async (c, next) => {
    const url = new URL(c.req.url);
    await verifyRequest(secret, c.req.method, url.pathname + url.search, c.get('body'), c.req.raw.headers, now());
    await next();
  };
}
