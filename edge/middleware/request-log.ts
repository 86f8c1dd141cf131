// One structured JSON log line per request, in the format both tiers share (protocol/log.ts: severity,
// requestId, method, path, status, latencyMs, model, Cloud Logging's trace): what an operator needs to
// follow a request and bill it, and nothing a caller sent as a secret (no headers, no body, no
// credentials, no stack traces).

import type { MiddlewareHandler } from 'hono';
import { modelOfPath, requestLogLine } from '../../protocol/log.ts';
import type { EdgeEnv } from '../context.ts';

export function requestLog(log: (line: string) => void, gcpProjectId?: string): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const startedMs = Date.now();
    await next();
    const path = new URL(c.req.url).pathname;
    const remaining = c.res.headers.get('ratelimit-remaining');
    const trace = c.get('trace');
    log(
      requestLogLine(
        {
          requestId: trace?.requestId ?? '',
          method: c.req.method,
          path,
          status: c.res.status,
          latencyMs: Date.now() - startedMs,
          model: modelOfPath(path),
          traceparent: trace?.traceparent,
          extra: {
            // Set by the auth middleware on authenticated routes: the key's id (or `jwt:<sub>`), never the credential.
            keyId: c.get('principal')?.id,
            tier: c.res.headers.get('x-edgeinfer-tier') ?? undefined,
            provider: c.res.headers.get('x-edgeinfer-provider') ?? undefined,
            ...(remaining !== null && { rateLimitRemaining: Number(remaining) }),
          },
        },
        gcpProjectId,
      ),
    );
  };
}
