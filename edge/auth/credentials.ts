// Finds the one credential a request carries and tells an API key from a JWT by its shape: keys start
// with `ei_`, JWTs are three base64url segments joined by dots.

import { apiKeyPattern } from '../../protocol/api-keys.ts';
import { unauthorized } from './principal.ts';

export type Credential = { kind: 'api-key'; apiKey: string } | { kind: 'jwt'; token: string };

const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function apiKey(value: string): Credential {
  if (!apiKeyPattern.test(value)) throw unauthorized('the API key is malformed', 'invalid_token');
  return { kind: 'api-key', apiKey: value };
}

/** Throws a 401 when there is no credential, more than one, or one of no known shape. */
export function readCredential(headers: { authorization: string | undefined; apiKey: string | undefined }): Credential {
  const { authorization, apiKey: apiKeyHeader } = headers;
  if (authorization === undefined && apiKeyHeader === undefined) {
    throw unauthorized('credentials are missing: send Authorization: Bearer <API key or token>, or x-api-key: <API key>');
  }
  if (authorization !== undefined && apiKeyHeader !== undefined) {
    throw unauthorized('send one credential, in Authorization or in x-api-key, not both', 'invalid_request');
  }
  if (apiKeyHeader !== undefined) return apiKey(apiKeyHeader.trim());

  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization!);
  if (!match) throw unauthorized('the Authorization header must use the Bearer scheme', 'invalid_request');
  const token = match[1]!;
  if (token.startsWith('ei_')) return apiKey(token);
  if (jwtShape.test(token)) return { kind: 'jwt', token };
  throw unauthorized('the bearer credential is neither an API key nor a JWT', 'invalid_token');
}
