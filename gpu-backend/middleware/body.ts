// Buffers a request's body once, within a byte limit, for the handler after it. A signed request
// (middleware/edge-signature.ts has checked its headers) is read only up to its signed length and
// checked against its signed hash before any handler sees it.

import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { readBodyWithLimit } from '../../protocol/body.ts';
import { PayloadTooLarge } from '../../protocol/errors.ts';
import { type SignedHead, verifySignedBody } from '../../protocol/signature.ts';
import { readIncomingWithLimit } from '../incoming-body.ts';
import type { BackendModel } from '../registry.ts';

export type BackendEnv = {
  /** Node's request and response on @hono/node-server; absent when the app is called without a server (app.request). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    body: Uint8Array;
    /** The served model a request is for, once resolved; also labels the request's metrics. */
    model: BackendModel | undefined;
    /** The request's verified signature; undefined when signatures are off. */
    signed: SignedHead | undefined;
  };
};

export function bufferedBody(options: { maxBytes: (c: Context<BackendEnv>) => number }): MiddlewareHandler<BackendEnv> {
  return async (c, next) => {
    const maxBytes = options.maxBytes(c);
    const signed = c.get('signed');
    if (signed && signed.bodyLength > maxBytes) {
      throw new PayloadTooLarge(`request body of ${signed.bodyLength} bytes exceeds this route's limit of ${maxBytes} bytes`);
    }
    // Node's own stream when there is one (see ../incoming-body.ts); the web stream otherwise.
    const incoming = c.env?.incoming;
    const body = incoming
      ? await readIncomingWithLimit(incoming, maxBytes, signed?.bodyLength)
      : await readBodyWithLimit(c.req.raw, signed?.bodyLength ?? maxBytes);
    if (signed) await verifySignedBody(signed, body);
    c.set('body', body);
    await next();
  };
}
