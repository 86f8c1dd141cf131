// Buffers an inference request's body once, within a byte limit, for the middleware and handler
// after it: the signature check hashes the exact bytes the handler then decodes.

import type { Context, MiddlewareHandler } from 'hono';
import { readBodyWithLimit } from '../../protocol/body.ts';
import type { BackendModel } from '../registry.ts';

export type BackendEnv = {
  Variables: {
    body: Uint8Array;
    /** The served model a request is for, once resolved; also labels the request's metrics. */
    model: BackendModel | undefined;
  };
};

export function bufferedBody(options: { maxBytes: (c: Context<BackendEnv>) => number }): MiddlewareHandler<BackendEnv> {
  return async (c, next) => {
    c.set('body', await readBodyWithLimit(c.req.raw, options.maxBytes(c)));
    await next();
  };
}
