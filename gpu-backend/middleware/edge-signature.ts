// The backend's one gate: every request that can carry a body (any method but GET and HEAD) must bear
// the edge's signature (protocol/signature.ts), checked from its headers before any of its body is read,
// and must not be a replay of one seen within the signature's window. The body is then read only up to
// its signed length (middleware/body.ts) and checked against its signed hash. Turned off only by an
// explicit setting for local development, which main.ts logs as a warning.

import type { MiddlewareHandler } from 'hono';
import { HttpError, InvalidInput, Overloaded } from '../../protocol/errors.ts';
import { ReplayedRequest, verifySignedHead } from '../../protocol/signature.ts';
import type { SeenNonces } from '../nonces.ts';
import type { BackendEnv } from './body.ts';

export interface EdgeSignatureOptions {
  /** The secrets a request may be signed with (current first); undefined lets every request through. */
  secrets: readonly string[] | undefined;
  nonces: SeenNonces;
  now?: () => number;
  /** One line per refused request, for the audit trail (never the signature or a secret). */
  log?: (line: string) => void;
}

/** Methods that carry no body and change nothing: health, metadata and readiness stay open to probes. */
const unsignedMethods = new Set(['GET', 'HEAD']);

function checkContentLength(header: string | undefined, signedLength: number): void {
  if (header === undefined) return; // chunked: read up to the signed length, refused past it
  if (header !== String(signedLength)) {
    throw new InvalidInput(`Content-Length ${JSON.stringify(header)} differs from the signed body length ${signedLength}`);
  }
}

export function edgeSignature(options: EdgeSignatureOptions): MiddlewareHandler<BackendEnv> {
  const { secrets, nonces, log = () => {} } = options;
  const now = options.now ?? Date.now;
  if (secrets === undefined) return (_c, next) => next();
  return async (c, next) => {
    if (unsignedMethods.has(c.req.method)) return next();
    const url = new URL(c.req.url);
    const path = url.pathname + url.search;
    try {
      const head = await verifySignedHead(secrets, c.req.method, path, c.req.raw.headers, now());
      checkContentLength(c.req.header('content-length'), head.bodyLength);
      const verdict = nonces.remember(head.nonce, head.timestampMs);
      if (!verdict.fresh) {
        if (verdict.reason === 'replayed') throw new ReplayedRequest(head.nonce);
        throw new Overloaded(
          'too many signed requests within the signature window to tell replays apart; retry',
          verdict.retryAfterMs / 1000,
        );
      }
      c.set('signed', head);
    } catch (err) {
      if (err instanceof HttpError) {
        log(
          JSON.stringify({ event: 'signature-refused', status: err.status, reason: err.message, method: c.req.method, path: url.pathname }),
        );
        // Nothing of the body has been read, and none will be: the connection is not reused for another request.
        err.headers.Connection = 'close';
      }
      throw err;
    }
    await next();
  };
}
