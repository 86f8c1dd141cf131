// What middleware puts on a request's context for the handlers and middleware after it.

import type { Principal } from './auth/principal.ts';
import type { CacheMiss } from './cache/cacheable.ts';
import type { WireInferRequest } from '../protocol/binary.ts';
import type { DecodedInferRequest } from '../models/infer-request.ts';
import type { RequestTrace } from './inference.ts';
import type { EdgeModel } from './registry.ts';
import type { PreparedTask, ReceivedTask } from './tasks.ts';

export type EdgeEnv = {
  /** The Worker's bindings as `wrangler types` generates them from wrangler.toml (edge/env.generated.d.ts). */
  Bindings: Env;
  Variables: {
    /** Set first, by the request-id middleware: how this request is known in logs and to the backend. */
    trace: RequestTrace;
    /** Set by the auth middleware on the routes that require a credential: who is calling. */
    principal: Principal;
    /** Set on the task routes once the body is read, before anything parses it. */
    taskRead: ReceivedTask;
    /** Set on the task routes once the body is read and weighed, before the rate limit is charged. */
    task: PreparedTask;
    /** Set on `/v2` infer routes once the body is read, before anything parses it. */
    inferRead: { resolved: EdgeModel; body: Uint8Array };
    /** Set on `/v2` infer routes once the body is read, decoded and weighed, before the rate limit is charged. */
    infer: { resolved: EdgeModel; wire: WireInferRequest; decoded: DecodedInferRequest; inputElements: number; body: Uint8Array };
    /** Set by the response cache when it looked a request's bytes up and missed (edge/cache/middleware.ts). */
    cacheMiss: CacheMiss;
  };
};
