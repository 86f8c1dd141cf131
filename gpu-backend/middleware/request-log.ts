// One JSON log line per request (protocol/log.ts: severity, method, path, status, latency, model,
// request id, Cloud Logging's trace from the edge's `traceparent`), and the request id echoed as
// `x-request-id`: the edge's when it forwarded one, so both tiers' lines carry the same id.

import type { MiddlewareHandler } from 'hono';
import { modelOfPath, requestLogLine, usableRequestId } from '../../protocol/log.ts';
import type { BackendEnv } from './body.ts';

export function requestLog(options: { log: (line: string) => void; projectId: string | undefined }): MiddlewareHandler<BackendEnv> {
  return async (c, next) => {
    const startedMs = performance.now();
    const requestId = usableRequestId(c.req.header('x-request-id')) ?? crypto.randomUUID();
    await next();
    c.header('x-request-id', requestId);
    const path = c.req.path;
    options.log(
      requestLogLine(
        {
          requestId,
          method: c.req.method,
          path,
          status: c.res.status,
          latencyMs: Math.round((performance.now() - startedMs) * 1000) / 1000,
          model: c.get('model')?.manifest.name ?? modelOfPath(path),
          traceparent: c.req.header('traceparent'),
        },
        options.projectId,
      ),
    );
  };
}
