// The id a request is known by across both tiers and in the logs: the caller's `x-request-id` when it
// is a sane token, else a fresh UUID, echoed on the answer; a W3C `traceparent` is passed on untouched
// when well formed.

import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../context.ts';

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function requestId(): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const traceparent = c.req.header('traceparent')?.trim().toLowerCase();
    const trace = {
      requestId: given && requestIdPattern.test(given) ? given : crypto.randomUUID(),
      traceparent: traceparent && traceparentPattern.test(traceparent) ? traceparent : undefined,
    };
    c.set('trace', trace);
    await next();
    c.header('x-request-id', trace.requestId);
  };
}
