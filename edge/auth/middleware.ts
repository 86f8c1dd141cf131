// Authentication and model access for inference (and, later, usage) routes. `authenticate` turns the
// request's credential into a `principal` on the context, or a 401; `requireModelAccess` answers 403
// when that principal may not run the model in the path. Public routes simply do not use them.

import type { MiddlewareHandler } from 'hono';
import { modelAllowed } from '../../protocol/api-keys.ts';
import { Forbidden } from '../../protocol/errors.ts';
import type { EdgeEnv } from '../context.ts';
import { readCredential } from './credentials.ts';
import type { JwtVerifier } from './jwt.ts';
import type { ApiKeyStore } from './key-store.ts';
import { type Principal, unauthorized } from './principal.ts';

export interface AuthOptions {
  keys: ApiKeyStore;
  /** Absent when the edge accepts no JWTs (neither JWT_SECRET nor JWT_JWKS_URL set). */
  jwt: JwtVerifier | undefined;
}

async function principalFor(
  options: AuthOptions,
  headers: { authorization: string | undefined; apiKey: string | undefined },
): Promise<Principal> {
  const credential = readCredential(headers);
  if (credential.kind === 'jwt') {
    if (!options.jwt) throw unauthorized('this edge accepts API keys only', 'invalid_token');
    return options.jwt.verify(credential.token);
  }
  const lookup = await options.keys.lookup(credential.apiKey);
  if (lookup.status === 'revoked') throw unauthorized('the API key has been revoked', 'invalid_token');
  if (lookup.status === 'unknown') throw unauthorized('the API key is not valid', 'invalid_token');
  return lookup.principal;
}

export function authenticate(options: AuthOptions): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    c.set('principal', await principalFor(options, { authorization: c.req.header('authorization'), apiKey: c.req.header('x-api-key') }));
    await next();
  };
}

/** After `authenticate`, on routes with a `:name` model parameter. */
export function requireModelAccess(): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const model = c.req.param('name');
    if (model === undefined || !modelAllowed(c.get('principal').models, model)) {
      throw new Forbidden(`this credential may not run model '${model}'`);
    }
    await next();
  };
}
