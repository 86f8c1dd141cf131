// One structured JSON log line per request: what an operator needs to follow a request and bill it,
// and nothing a caller sent as a secret (no headers, no body, no credentials, no stack traces).

import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../context.ts';

const modelInPath = /^\/v2\/models\/([^/]+)/;

export function requestLog(log: (line: string) => void): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const startedMs = Date.now();
    await next();
    const path = new URL(c.req.url).pathname;
    const remaining = c.res.headers.get('ratelimit-remaining');
    log(
      JSON.stringify({
        event: 'request',
        requestId: c.get('trace')?.requestId,
        method: c.req.method,
        path,
        model: modelInPath.exec(path)?.[1],
        // Set by the auth middleware on authenticated routes: the key's id (or `jwt:<sub>`), never the credential.
        keyId: c.get('principal')?.id,
        tier: c.res.headers.get('x-edgeinfer-tier') ?? undefined,
        status: c.res.status,
        latencyMs: Date.now() - startedMs,
        ...(remaining !== null && { rateLimitRemaining: Number(remaining) }),
      }),
    );
  };
}
