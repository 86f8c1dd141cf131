// JWT bearer tokens, verified with jose against an HS256 secret or a JWKS URL, and mapped onto the
// same principal as an API key: `sub` names the caller, `plan` their plan, and `models` (names or
// "*") or `scope` (`infer:<model>`, `infer:*`) what they may run.

import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { Plan } from '../../protocol/api-keys.ts';
import { type Principal, unauthorized } from './principal.ts';

export interface JwtConfig {
  key: { kind: 'secret'; secret: string } | { kind: 'jwks'; url: string };
  /** Only these `alg` values are accepted; `none` never is. */
  algorithms: string[];
  issuer: string;
  audience: string;
}

export interface JwtVerifier {
  /** The caller the token names; throws a 401 when it is not valid now. */
  verify(token: string): Promise<Principal>;
}

// Clocks of token issuers and Workers disagree by seconds, not minutes.
const clockToleranceSeconds = 30;
// A JWKS endpoint that does not answer fails the request fast instead of holding it.
const jwksTimeoutMs = 5_000;

const Claims = z.object({
  sub: z.string().min(1).max(200),
  plan: Plan.default('free'),
  models: z.union([z.literal('*'), z.array(z.string().min(1))]).optional(),
  scope: z.string().optional(),
});

function allowedModels(claims: z.infer<typeof Claims>): Principal['models'] {
  if (claims.models !== undefined) return claims.models;
  const scopes = (claims.scope ?? '').split(' ').filter((scope) => scope.startsWith('infer:'));
  if (scopes.includes('infer:*')) return '*';
  return scopes.map((scope) => scope.slice('infer:'.length)).filter(Boolean);
}

/** What the caller is told, by jose's error: fixed sentences, never the token or its claims' values. */
function refusal(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return unauthorized('the token has expired', 'invalid_token');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const reasons: Record<string, string> = {
      nbf: 'the token is not valid yet',
      iss: 'the token was issued by an issuer this edge does not accept',
      aud: 'the token is meant for another audience',
      exp: 'the token has no valid expiry',
      sub: 'the token names no subject',
    };
    return unauthorized(reasons[err.claim] ?? 'the token has an invalid claim', 'invalid_token');
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized("the token's algorithm is not accepted", 'invalid_token');
  if (err instanceof errors.JOSEError && !(err instanceof errors.JWKSTimeout))
    return unauthorized('the token could not be verified', 'invalid_token');
  // A JWKS endpoint that times out or fails is ours to fix, not the caller's: it surfaces as a 500.
  return err instanceof Error ? err : new Error(String(err));
}

export function createJwtVerifier(config: JwtConfig, now: () => number): JwtVerifier {
  const secret = config.key.kind === 'secret' ? new TextEncoder().encode(config.key.secret) : undefined;
  const jwks = config.key.kind === 'jwks' ? createRemoteJWKSet(new URL(config.key.url), { timeoutDuration: jwksTimeoutMs }) : undefined;
  const options = () => ({
    algorithms: config.algorithms,
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: clockToleranceSeconds,
    currentDate: new Date(now()),
  });
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = secret ? await jwtVerify(token, secret, options()) : await jwtVerify(token, jwks!, options()));
      } catch (err) {
        throw refusal(err);
      }
      const claims = Claims.safeParse(payload);
      if (!claims.success)
        throw unauthorized(
          `the token's claims are invalid: ${claims.error.issues.map((i) => i.path.join('.')).join(', ')}`,
          'invalid_token',
        );
      return {
        kind: 'jwt',
        id: `jwt:${claims.data.sub}`,
        owner: claims.data.sub,
        plan: claims.data.plan,
        models: allowedModels(claims.data),
      };
    },
  };
}
