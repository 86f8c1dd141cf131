import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

const issuer = 'https://issuer.example.com/';
const audience = 'edgeinfer';
const sileroBody = {
  inputs: [
    tensor('input', 'FP32', [1, 576], new Float32Array(576)),
    tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
    tensor('sr', 'INT64', [], [16000]),
  ],
};

let jwks: Server;
let edge: RunningWorker;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  edge = await startEdgeWorker({ vars: { JWT_JWKS_URL: jwksUrl, JWT_ISSUER: issuer, JWT_AUDIENCE: audience } });
});
afterAll(async () => {
  await edge?.stop();
  jwks?.close();
});

const token = (key: CryptoKey, claims: Record<string, unknown> = { sub: 'svc', models: '*' }) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setExpirationTime('5m')
    .sign(key);

describe('edge authentication with a JWKS', () => {
  it('accepts a token signed by a key the JWKS publishes', async () => {
    const res = await edge.fetchWithoutCredentials(
      '/v2/models/silero-vad/infer',
      postJson(sileroBody, { authorization: `Bearer ${await token(signingKey)}` }),
    );
    expect(res.status).toBe(200);
  });

  it('refuses a token signed by any other key', async () => {
    const res = await edge.fetchWithoutCredentials(
      '/v2/models/silero-vad/infer',
      postJson(sileroBody, { authorization: `Bearer ${await token(strangerKey)}` }),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('refuses an HS256 token even when its secret is the published key, since only RS256/ES256 are allowed', async () => {
    const forged = await new SignJWT({ sub: 'svc', models: '*' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    const res = await edge.fetchWithoutCredentials(
      '/v2/models/silero-vad/infer',
      postJson(sileroBody, { authorization: `Bearer ${forged}` }),
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/algorithm is not accepted/);
  });
});
