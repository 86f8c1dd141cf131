// The job consumer runs an accepted job through the app's own route, so its answer is exactly the
// synchronous call's. A replayed request is marked in a WeakMap keyed by the Request object itself:
// nothing a caller can send over HTTP sets the mark, so no header can claim to be a replay.

import type { MiddlewareHandler } from 'hono';
import type { Principal } from '../auth/principal.ts';
import type { EdgeEnv } from '../context.ts';
import type { JobRecord } from './job-state.ts';

interface Replay {
  jobId: string;
  principal: Principal;
}

const replays = new WeakMap<Request, Replay>();

/** Request headers a model-running route reads; the rest (the credential among them) stay behind. */
export const replayedHeaders = ['content-type', 'inference-header-content-length', 'traceparent'] as const;

export function replayRequest(record: JobRecord, body: ArrayBuffer | Uint8Array): Request {
  const headers = new Headers(record.request.headers);
  headers.set('x-request-id', record.id);
  const request = new Request(new URL(record.request.path, 'https://edgeinfer.internal'), {
    method: 'POST',
    headers,
    body: body as BodyInit,
  });
  replays.set(request, { jobId: record.id, principal: record.principal });
  return request;
}

export const replayOf = (request: Request): Replay | undefined => replays.get(request);

/**
 * The gate of a model-running route, or for a replayed job the principal it was accepted for: the job
 * was authenticated, allowed the model and charged against its plan when it was accepted (202), so a
 * replay is not charged again. `prepare` (a task route's body reading) runs either way.
 */
export function replayable(gate: MiddlewareHandler<EdgeEnv>, prepare?: MiddlewareHandler<EdgeEnv>): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const replay = replayOf(c.req.raw);
    if (!replay) return gate(c, next);
    c.set('principal', replay.principal);
    return prepare ? prepare(c, next) : next();
  };
}
