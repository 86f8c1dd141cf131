// Google-signed ID tokens for calling a Cloud Run service deployed with `--no-allow-unauthenticated`.
// A Worker has no Google identity of its own, so it holds a service account's key (a secret) and does
// what Google's auth libraries do for one: signs a JWT assertion with the key (RS256, jose) naming the
// service as `target_audience`, and exchanges it at the key's `token_uri` for an ID token that Cloud
// Run's front end checks before a request reaches (or starts) an instance. Tokens live an hour; one is
// reused until five minutes before it expires, and concurrent requests share one exchange.

import { decodeJwt, importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';

/** The fields of a service account key file (`gcloud iam service-accounts keys create`) used here. */
export const ServiceAccountKey = z.object({
  type: z.literal('service_account'),
  client_email: z.email(),
  private_key: z.string().includes('PRIVATE KEY', { message: 'a PEM private key' }),
  private_key_id: z.string().min(1).optional(),
  token_uri: z.url({ protocol: /^https?$/ }),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;

const assertionLifetimeSeconds = 3600;
const refreshBeforeExpiryMs = 5 * 60 * 1000;
const exchangeTimeoutMs = 5_000;

export interface GoogleIdTokenOptions {
  key: ServiceAccountKey;
  /** The Cloud Run service's URL (its run.app origin, or a custom audience it is configured with). */
  audience: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export class GoogleIdTokenError extends Error {
  override name = 'GoogleIdTokenError';
}

export class GoogleIdTokenSource {
  readonly #options: Required<GoogleIdTokenOptions>;
  #cached: { token: string; refreshAtMs: number } | undefined;
  #pending: Promise<string> | undefined;
  #privateKey: Promise<CryptoKey> | undefined;

  constructor(options: GoogleIdTokenOptions) {
    this.#options = { fetch: (input, init) => fetch(input, init), now: () => Date.now(), ...options };
  }

  /** A valid ID token for the audience, minted when none is held or the held one is near expiry. */
  token(): Promise<string> {
    if (this.#cached && this.#options.now() < this.#cached.refreshAtMs) return Promise.resolve(this.#cached.token);
    this.#pending ??= this.#mint().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #mint(): Promise<string> {
    const { key, audience, now } = this.#options;
    this.#privateKey ??= importPKCS8(key.private_key, 'RS256');
    const issuedAt = Math.floor(now() / 1000);
    const assertion = await new SignJWT({ target_audience: audience })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(key.private_key_id && { kid: key.private_key_id }) })
      .setIssuer(key.client_email)
      .setSubject(key.client_email)
      .setAudience(key.token_uri)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + assertionLifetimeSeconds)
      .sign(await this.#privateKey);

    let response: Response;
    try {
      response = await this.#options.fetch(key.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        signal: AbortSignal.timeout(exchangeTimeoutMs),
      });
    } catch (err) {
      throw new GoogleIdTokenError(`could not reach the token endpoint: ${(err as Error).message}`);
    }
    const text = await response.text();
    let idToken: unknown;
    try {
      if (response.ok) idToken = (JSON.parse(text) as { id_token?: unknown }).id_token;
    } catch {
      // not JSON: reported below with what came back
    }
    if (typeof idToken !== 'string') {
      // The endpoint's error names the problem (a revoked key, a clock far off); it holds no secret.
      throw new GoogleIdTokenError(`the token endpoint answered ${response.status}: ${text.slice(0, 200)}`);
    }
    const expiresAtMs = (decodeJwt(idToken).exp ?? issuedAt + assertionLifetimeSeconds) * 1000;
    this.#cached = { token: idToken, refreshAtMs: expiresAtMs - refreshBeforeExpiryMs };
    return idToken;
  }
}
