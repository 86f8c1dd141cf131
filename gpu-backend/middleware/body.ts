// Buffers an inference request's body once, within a byte limit, for the middleware and handler
// after it: the signature check hashes the exact bytes the handler then decodes.

import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { readBodyWithLimit } from '../../protocol/body.ts';
import { readIncomingWithLimit } from '../incoming-body.ts';
import type { BackendModel } from '../registry.ts';

export type BackendEnv = {
  /** Node's request and response on @hono/node-server; absent when the app is called without a server (app.request). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    body: Uint8Array;
    /** The served model a request is for, once resolved; also labels the request's metrics. */
    model: BackendModel | undefined;
  };
};

export function bufferedBody(options: { maxBytes: (c: Context<BackendEnv>) => number }): MiddlewareHandler<BackendEnv> {
  return async (c, next) => {
    const maxBytes = options.maxBytes(c);
    // Node's own stream when there is one (see ../incoming-body.ts); the web stream otherwise.
    const incoming = c.env?.incoming;
    c.set('body', incoming ? await readIncomingWithLimit(incoming, maxBytes) : await readBodyWithLimit(c.req.raw, maxBytes));
    await next();
  };
}
