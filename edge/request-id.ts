// The id a request is known by across both tiers and in the logs: the caller's `x-request-id` when it
// is a sane token, else a fresh UUID; a W3C `traceparent` is passed on untouched when well formed.

import type { RequestTrace } from './inference.ts';

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function requestTrace(headers: Headers, id: string | undefined): RequestTrace {
  const given = headers.get('x-request-id');
  const traceparent = headers.get('traceparent')?.trim().toLowerCase();
  return {
    id,
    requestId: given && requestIdPattern.test(given) ? given : crypto.randomUUID(),
    traceparent: traceparent && traceparentPattern.test(traceparent) ? traceparent : undefined,
  };
}
