import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateApiKey } from '../../protocol/api-keys.ts';
import { seedApiKey, type SeededKey } from '../support/api-keys.ts';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

const jwtSecret = 'a-test-secret-of-at-least-thirty-two-characters';
const issuer = 'https://auth.example.com/';
const audience = 'edgeinfer-tests';
const cacheTtlMs = 300;

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker({
    vars: {
      JWT_SECRET: jwtSecret,
      JWT_ISSUER: issuer,
      JWT_AUDIENCE: audience,
      API_KEY_CACHE_TTL_MS: String(cacheTtlMs),
      // These tests send more refused credentials from one address than the default allowance of a
      // window; the allowance itself is tested in rate-limit.test.ts.
      RATE_LIMIT_FAILED_AUTH_PER_IP: '1000',
    },
  });
});
afterAll(() => edge?.stop());

const sileroBody = {
  inputs: [
    tensor('input', 'FP32', [1, 576], new Float32Array(576)),
    tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
    tensor('sr', 'INT64', [], [16000]),
  ],
};
const clsBody = { inputs: [tensor('x', 'FP32', [1, 3, 48, 192], new Float32Array(3 * 48 * 192))] };

/** Every credential a test sent: none may come back in a response or a log line. */
const sentCredentials = new Set<string>();

function inferSilero(headers: Record<string, string>, requestId?: string): Promise<Response> {
  for (const value of Object.values(headers)) sentCredentials.add(value.replace(/^Bearer /, ''));
  return edge.fetchWithoutCredentials(
    '/v2/models/silero-vad/infer',
    postJson(sileroBody, { ...headers, ...(requestId && { 'x-request-id': requestId }) }),
  );
}

async function expectRefusal(res: Response, status: number, message: RegExp, challenge?: RegExp): Promise<void> {
  const body = (await res.json()) as { error: string };
  expect(res.status, body.error).toBe(status);
  expect(body.error).toMatch(message);
  if (challenge) expect(res.headers.get('www-authenticate')).toMatch(challenge);
}

const invalidToken = /^Bearer realm="edgeinfer", error="invalid_token"/;

async function jwt(
  claims: Record<string, unknown>,
  options: { alg?: string; secret?: string; iss?: string; aud?: string; exp?: number | string; nbf?: number } = {},
): Promise<string> {
  let builder = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? audience)
    .setExpirationTime(options.exp ?? '5m');
  if (options.nbf !== undefined) builder = builder.setNotBefore(options.nbf);
  return builder.sign(new TextEncoder().encode(options.secret ?? jwtSecret));
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('edge authentication with API keys', () => {
  let sileroOnly: SeededKey;
  beforeAll(async () => {
    sileroOnly = await seedApiKey(edge.apiKeys, { owner: 'acme', plan: 'free', models: ['silero-vad'] });
  });

  it('answers 401 with a bare Bearer challenge when no credential is sent', async () => {
    const res = await inferSilero({});
    await expectRefusal(res, 401, /credentials are missing/, /^Bearer realm="edgeinfer"$/);
  });

  it('answers 401 invalid_token for a malformed key or a bearer value of no known shape', async () => {
    await expectRefusal(await inferSilero(bearer('ei_live_short')), 401, /malformed/, invalidToken);
    await expectRefusal(await inferSilero(bearer('not-a-key-nor-a-jwt')), 401, /neither an API key nor a JWT/, invalidToken);
    await expectRefusal(await inferSilero({ 'x-api-key': 'not-an-edgeinfer-key' }), 401, /malformed/, invalidToken);
  });

  it('answers 401 invalid_request for another scheme or two credentials at once', async () => {
    await expectRefusal(await inferSilero({ authorization: 'Basic dXNlcjpwYXNz' }), 401, /Bearer scheme/, /error="invalid_request"/);
    await expectRefusal(
      await inferSilero({ ...bearer(edge.key.apiKey), 'x-api-key': edge.key.apiKey }),
      401,
      /not both/,
      /error="invalid_request"/,
    );
  });

  it('answers 401 for a well-formed key that was never issued', async () => {
    await expectRefusal(await inferSilero(bearer(generateApiKey())), 401, /not valid/, invalidToken);
  });

  it('accepts a key as Authorization: Bearer and as x-api-key', async () => {
    expect((await inferSilero(bearer(sileroOnly.apiKey))).status).toBe(200);
    expect((await inferSilero({ 'x-api-key': sileroOnly.apiKey })).status).toBe(200);
  });

  it('answers 403 when the key may not run the model', async () => {
    sentCredentials.add(sileroOnly.apiKey);
    const res = await edge.fetchWithoutCredentials('/v2/models/paddleocr-cls/infer', postJson(clsBody, bearer(sileroOnly.apiKey)));
    await expectRefusal(res, 403, /may not run model 'paddleocr-cls'/);
  });

  it('refuses a revoked key on its first use', async () => {
    const key = await seedApiKey(edge.apiKeys);
    await key.revoke();
    await expectRefusal(await inferSilero(bearer(key.apiKey)), 401, /revoked/, invalidToken);
  });

  it('refuses a key revoked while in use as soon as the isolate cache entry expires (API_KEY_CACHE_TTL_MS)', async () => {
    const key = await seedApiKey(edge.apiKeys);
    expect((await inferSilero(bearer(key.apiKey))).status).toBe(200);
    await key.revoke();
    const revokedAtMs = Date.now();
    await vi.waitFor(async () => expect((await inferSilero(bearer(key.apiKey))).status).toBe(401), { timeout: 5_000, interval: 50 });
    expect(Date.now() - revokedAtMs).toBeLessThan(cacheTtlMs + 1_000);
    // Once refused, it stays refused: the refusal is what the isolate caches now.
    await expectRefusal(await inferSilero(bearer(key.apiKey)), 401, /revoked/, invalidToken);
  });
});

describe('edge authentication with JWTs', () => {
  it('accepts an HS256 token from the configured issuer for the configured audience', async () => {
    expect((await inferSilero(bearer(await jwt({ sub: 'user-1', plan: 'pro', models: '*' })))).status).toBe(200);
    expect((await inferSilero(bearer(await jwt({ sub: 'user-2', scope: 'openid infer:silero-vad' })))).status).toBe(200);
  });

  it('answers 403 when the token grants other models only', async () => {
    await expectRefusal(
      await inferSilero(bearer(await jwt({ sub: 'user-3', scope: 'infer:paddleocr-cls' }))),
      403,
      /may not run model 'silero-vad'/,
    );
    await expectRefusal(await inferSilero(bearer(await jwt({ sub: 'user-4' }))), 403, /may not run/);
  });

  it('refuses an expired token', async () => {
    await expectRefusal(
      await inferSilero(bearer(await jwt({ sub: 'u', models: '*' }, { exp: nowSeconds() - 120 }))),
      401,
      /expired/,
      invalidToken,
    );
  });

  it('refuses a token that is not valid yet', async () => {
    await expectRefusal(
      await inferSilero(bearer(await jwt({ sub: 'u', models: '*' }, { nbf: nowSeconds() + 3600 }))),
      401,
      /not valid yet/,
      invalidToken,
    );
  });

  it('refuses a token for another audience or from another issuer', async () => {
    await expectRefusal(
      await inferSilero(bearer(await jwt({ sub: 'u', models: '*' }, { aud: 'someone-else' }))),
      401,
      /another audience/,
      invalidToken,
    );
    await expectRefusal(
      await inferSilero(bearer(await jwt({ sub: 'u', models: '*' }, { iss: 'https://evil.example.com/' }))),
      401,
      /issuer/,
      invalidToken,
    );
  });

  it('refuses algorithms outside the allowlist, unsigned tokens and wrong signatures', async () => {
    await expectRefusal(
      await inferSilero(bearer(await jwt({ sub: 'u', models: '*' }, { alg: 'HS512' }))),
      401,
      /algorithm is not accepted/,
      invalidToken,
    );
    const valid = await jwt({ sub: 'u', models: '*' });
    const [, payload] = valid.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    await expectRefusal(await inferSilero(bearer(unsigned)), 401, /algorithm is not accepted|could not be verified/, invalidToken);
    await expectRefusal(
      await inferSilero(bearer(await jwt({ sub: 'u', models: '*' }, { secret: 'another-secret-of-at-least-thirty-two-chars' }))),
      401,
      /could not be verified/,
      invalidToken,
    );
  });

  it('refuses a token without a subject', async () => {
    await expectRefusal(await inferSilero(bearer(await jwt({ models: '*' }))), 401, /subject/, invalidToken);
  });
});

describe('edge public routes', () => {
  it('serves health and metadata without credentials', async () => {
    for (const path of [
      '/v2',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models',
      '/v2/models/silero-vad',
      '/v2/models/silero-vad/versions/5',
      '/v2/models/silero-vad/ready',
      '/openapi.json',
    ]) {
      expect((await edge.fetchWithoutCredentials(path)).status, path).toBe(200);
    }
  });

  it('still answers 405 for a wrong method on infer, before asking for credentials', async () => {
    expect((await edge.fetchWithoutCredentials('/v2/models/silero-vad/infer')).status).toBe(405);
  });
});

describe('edge credential hygiene', () => {
  it('never puts a credential in a response or a log line', async () => {
    const apiKey = edge.key.apiKey;
    const token = await jwt({ sub: 'hygiene', models: '*' });
    const expired = await jwt({ sub: 'hygiene', models: '*' }, { exp: nowSeconds() - 120 });
    const unknown = generateApiKey();
    const cases: Record<string, string>[] = [
      bearer(apiKey),
      { 'x-api-key': apiKey },
      bearer(token),
      bearer(expired),
      bearer(unknown),
      { 'x-api-key': unknown },
      bearer(`${apiKey}x`),
    ];
    const requestIds: string[] = [];
    for (const [i, headers] of cases.entries()) {
      const requestId = `hygiene-${i}`;
      requestIds.push(requestId);
      const res = await inferSilero(headers, requestId);
      const answer = `${[...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${await res.text()}`;
      for (const credential of sentCredentials) expect(answer).not.toContain(credential);
    }
    // The request log line is written after the answer; wait for the last one to arrive.
    await vi.waitFor(() => expect(edge.logs.join('\n')).toContain(requestIds.at(-1)), { timeout: 5_000, interval: 25 });
    expect(edge.logs.length).toBeGreaterThan(cases.length);
    for (const line of edge.logs) for (const credential of sentCredentials) expect(line).not.toContain(credential);
    // What the log does say is who called: the key's id, or the token's subject.
    const logged = (requestId: string, event = 'request') =>
      JSON.parse(edge.logs.find((line) => line.includes(`"requestId":"${requestId}"`) && line.includes(`"event":"${event}"`))!);
    expect(logged('hygiene-0')).toMatchObject({ keyId: edge.key.record.id, status: 200 });
    expect(logged('hygiene-2')).toMatchObject({ keyId: 'jwt:hygiene', status: 200 });
    expect(logged('hygiene-4')).toMatchObject({ status: 401 });
    // And the audit log says why each refusal was made, by credential kind, in its own line.
    expect(logged('hygiene-3', 'auth-failed')).toMatchObject({ audit: true, reason: 'the token has expired', credential: 'jwt' });
    expect(logged('hygiene-4', 'auth-failed')).toMatchObject({ audit: true, reason: 'the API key is not valid', credential: 'api-key' });
    expect(logged('hygiene-6', 'auth-failed')).toMatchObject({ audit: true, reason: 'the API key is not valid', credential: 'api-key' });
  });
});
