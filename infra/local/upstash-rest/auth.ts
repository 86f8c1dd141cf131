// Upstash's authentication: `Authorization: Bearer <token>`, or the `_token` query parameter.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { Unauthorized } from '../../../protocol/errors.ts';

export function requireToken(token: string): MiddlewareHandler {
  const expected = sha256(token);
  return async (c, next) => {
    const header = c.req.header('authorization');
    const presented = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? c.req.query('_token');
    if (!presented) throw new Unauthorized('Unauthorized: send the token as Authorization: Bearer <token>');
    // Comparing digests keeps the comparison constant-time whatever the presented length.
    if (!timingSafeEqual(sha256(presented), expected)) throw new Unauthorized('Unauthorized: invalid token');
    await next();
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
