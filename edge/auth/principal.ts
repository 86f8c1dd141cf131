// Who is calling, whichever credential they used: what rate limiting (by plan), metering (by id) and
// model access need, and nothing of the credential itself.

import type { Plan } from '../../protocol/api-keys.ts';
import { Unauthorized } from '../../protocol/errors.ts';

export interface Principal {
  /** How the caller proved who they are. */
  kind: 'api-key' | 'jwt';
  /** Stable and safe to log: an API key's id (`key_…`), or `jwt:` and the token's subject. */
  id: string;
  owner: string;
  plan: Plan;
  /** Models this caller may run: names, or `*` for all. */
  models: '*' | readonly string[];
}

export const realm = 'edgeinfer';

/**
 * 401 with RFC 6750's challenge. Without an error code when no credential was sent (§3.1); the
 * description is always one of our fixed sentences, never anything the caller sent.
 */
export function unauthorized(message: string, error?: 'invalid_token' | 'invalid_request'): Unauthorized {
  const challenge = error
    ? `Bearer realm="${realm}", error="${error}", error_description="${message.replace(/["\\]/g, '')}"`
    : `Bearer realm="${realm}"`;
  return new Unauthorized(message, challenge);
}
