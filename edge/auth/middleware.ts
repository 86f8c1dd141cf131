// Authentication and authorization for every route that runs a model (and the usage routes).
// `authenticate` turns the request's credential into a `principal` on the context, or a 401; before it
// looks a credential up it takes one of the client address's failed-authentication attempts, so a
// burst from one address looks up at most that many credentials (edge/middleware/rate-limit.ts).
// `authorize` answers 403 unless the principal may run every model the route will run. Public
// routes simply do not use them; edge/app.ts composes both into the one gate of every model route.

import type { Context, MiddlewareHandler } from 'hono';
import type { AuditLog } from '../../protocol/audit.ts';
import { modelAllowed } from '../../protocol/api-keys.ts';
import { Forbidden, HttpError } from '../../protocol/errors.ts';
import type { EdgeEnv } from '../context.ts';
import { clientIp } from '../middleware/client-ip.ts';
import { type Credential, readCredential } from './credentials.ts';
import type { JwtVerifier } from './jwt.ts';
import type { ApiKeyStore } from './key-store.ts';
import { type Principal, unauthorized } from './principal.ts';

export interface AuthOptions {
  keys: ApiKeyStore;
  /** Absent when the edge accepts no JWTs (neither JWT_SECRET nor JWT_JWKS_URL set). */
  jwt: JwtVerifier | undefined;
}

/** One attempt at authentication, taken from the client address's allowance before any lookup. */
export interface AuthAttempt {
  /** The credential was valid: the attempt is given back. */
  succeeded(): void;
  /** The credential was refused: the attempt stays counted; the 401 gets the address's numbers. */
  failed(err: HttpError): void;
}

export interface AuthAttempts {
  /** Throws 429 when this isolate already refused the address (no round trip): valid credentials included. */
  refuseIfBlocked(c: Context<EdgeEnv>): void;
  /** Throws 429 when the address has no attempt left; otherwise holds one until the outcome is known. */
  take(c: Context<EdgeEnv>): Promise<AuthAttempt>;
}

type Headers = { authorization: string | undefined; apiKey: string | undefined };

async function principalFor(options: AuthOptions, credential: Credential): Promise<Principal> {
  if (credential.kind === 'jwt') {
    if (!options.jwt) throw unauthorized('this edge accepts API keys only', 'invalid_token');
    return options.jwt.verify(credential.token);
  }
  const lookup = await options.keys.lookup(credential.apiKey);
  if (lookup.status === 'revoked') throw unauthorized('the API key has been revoked', 'invalid_token');
  if (lookup.status === 'unknown') throw unauthorized('the API key is not valid', 'invalid_token');
  return lookup.principal;
}

/** An API key this isolate already holds as valid needs no lookup, so it takes no attempt (and no round trip). */
async function knownPrincipal(options: AuthOptions, headers: Headers): Promise<Principal | undefined> {
  let credential: Credential;
  try {
    credential = readCredential(headers);
  } catch {
    return undefined;
  }
  return credential.kind === 'api-key' ? options.keys.cachedValid(credential.apiKey) : undefined;
}

function credentialKind(headers: Headers): 'api-key' | 'jwt' | 'none' | 'unknown' {
  try {
    return readCredential(headers).kind;
  } catch {
    return headers.authorization === undefined && headers.apiKey === undefined ? 'none' : 'unknown';
  }
}

export function authenticate(options: AuthOptions & { attempts: AuthAttempts; audit: AuditLog }): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const headers = { authorization: c.req.header('authorization'), apiKey: c.req.header('x-api-key') };
    options.attempts.refuseIfBlocked(c);
    const known = await knownPrincipal(options, headers);
    if (known) {
      c.set('principal', known);
      return next();
    }
    const attempt = await options.attempts.take(c);
    let principal: Principal;
    try {
      principal = await principalFor(options, readCredential(headers));
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 401) throw err;
      attempt.failed(err);
      options.audit({
        event: 'auth-failed',
        reason: err.message,
        credential: credentialKind(headers),
        ip: clientIp(c),
        path: new URL(c.req.url).pathname,
        requestId: c.get('trace')?.requestId,
      });
      throw err;
    }
    attempt.succeeded();
    c.set('principal', principal);
    await next();
  };
}

/** Which models a route runs: the one in its path, or every model of a task's pipeline. */
export type ModelsOf = (c: Context<EdgeEnv>) => readonly string[];

/**
 * The gate every route that runs a model goes through (composed in edge/app.ts): the route names the
 * models it runs, reads its body (`read`: the bytes, unparsed, which the response cache may already
 * hold an answer for) and weighs it (`prepare`, which sets what `units` reads) before its caller's
 * plan is charged.
 */
export type ModelGate = (route: {
  models: ModelsOf;
  read: MiddlewareHandler<EdgeEnv>;
  prepare: MiddlewareHandler<EdgeEnv>;
  units: (c: Context<EdgeEnv>) => number;
}) => MiddlewareHandler<EdgeEnv>;

/** After `authenticate`: 403 unless the caller may run every model the route runs. */
export function authorize(modelsOf: ModelsOf, audit: AuditLog): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const models = modelsOf(c);
    // A route that names no model would let every credential through: that is our bug, not a grant.
    if (models.length === 0) throw new Error(`the route ${c.req.routePath} names no models to authorize`);
    const refused = models.filter((model) => !modelAllowed(principal.models, model));
    if (refused.length > 0) {
      audit({
        event: 'scope-refused',
        principal: principal.id,
        models: refused,
        path: new URL(c.req.url).pathname,
        ip: clientIp(c),
        requestId: c.get('trace')?.requestId,
      });
      throw new Forbidden(
        models.length === 1
          ? `this credential may not run model '${models[0]}'`
          : `this credential may not run ${refused.map((m) => `'${m}'`).join(', ')}, which this route runs (it runs ${models.join(', ')})`,
      );
    }
    await next();
  };
}
