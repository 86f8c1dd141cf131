// Response hardening for a public API: security headers on every answer, and CORS only for the
// origins the operator lists (no wildcard: browsers then get nothing they were not meant to).

import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';

/**
 * HSTS, nosniff, no referrer, no framing, and a CSP that allows nothing: the API answers JSON, and a
 * route that serves a page (/docs) sets its own narrower policy, which is kept.
 */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    strictTransportSecurity: 'max-age=63072000; includeSubDomains',
    referrerPolicy: 'no-referrer',
    xFrameOptions: 'DENY',
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    overwrite: false,
  });
}

// What a browser client sends and may read: credentials travel as headers (Authorization,
// x-api-key), never cookies, so CORS never needs `credentials: true`.
const requestHeaders = ['authorization', 'x-api-key', 'content-type', 'inference-header-content-length', 'x-request-id', 'traceparent'];
const exposedHeaders = [
  'x-edgeinfer-tier',
  'x-edgeinfer-units',
  'x-edgeinfer-cost',
  'x-request-id',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
  'inference-header-content-length',
  'server-timing',
];

export function corsFromAllowlist(allowedOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(allowedOrigins);
  return cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: requestHeaders,
    exposeHeaders: exposedHeaders,
    maxAge: 600,
  });
}
