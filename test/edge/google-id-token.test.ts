// The edge's Google ID tokens for a Cloud Run backend that admits only its invokers, against a stand-in
// for Google's token endpoint on loopback: it verifies the service account's assertion with the key's
// public half, as Google does, and answers an ID token for the assertion's target audience. The clock is
// injected; nothing here waits for a token to expire.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportPKCS8, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendClient } from '../../edge/backend/client.ts';
import { BackendBreakers } from '../../edge/backend/circuit-breaker.ts';
import { ConfigError, parseEdgeConfig } from '../../edge/config.ts';
import { GoogleIdTokenSource, type ServiceAccountKey } from '../../edge/backend/google-id-token.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { repoRoot } from '../support/edge-worker.ts';

const audience = 'https://edgeinfer-backend-abc-uc.a.run.app';
const email = 'edge-invoker@demo-project.iam.gserviceaccount.com';
const start = 1_800_000_000_000;

let tokenServer: Server;
let key: ServiceAccountKey;
let exchanges: { status: number; targetAudience?: unknown }[] = [];
let refuseNext = false;

beforeAll(async () => {
  const serviceAccount = await generateKeyPair('RS256', { extractable: true });
  const google = await generateKeyPair('RS256');
  tokenServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', async () => {
      const form = new URLSearchParams(body);
      try {
        if (refuseNext) throw new Error('invalid_grant');
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') throw new Error('unsupported_grant_type');
        const tokenUri = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
        const { payload } = await jwtVerify(form.get('assertion')!, serviceAccount.publicKey, {
          issuer: email,
          subject: email,
          audience: tokenUri,
          currentDate: new Date(start),
        });
        exchanges.push({ status: 200, targetAudience: payload.target_audience });
        const issuedAt = Math.floor(Number(payload.iat));
        const idToken = await new SignJWT({ email })
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer('https://accounts.google.com')
          .setAudience(String(payload.target_audience))
          .setIssuedAt(issuedAt)
          .setExpirationTime(issuedAt + 3600)
          .sign(google.privateKey);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id_token: idToken }));
      } catch (err) {
        exchanges.push({ status: 400 });
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  });
  tokenServer.listen(0, '127.0.0.1');
  await once(tokenServer, 'listening');
  key = {
    type: 'service_account',
    client_email: email,
    private_key: await exportPKCS8(serviceAccount.privateKey),
    private_key_id: 'key-1',
    token_uri: `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`,
  };
});
afterAll(() => tokenServer?.close());

function clock() {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('GoogleIdTokenSource', () => {
  it('exchanges a signed assertion for an ID token whose audience is the service, once for concurrent callers', async () => {
    exchanges = [];
    const tokens = new GoogleIdTokenSource({ key, audience, now: clock().now });
    const [first, second] = await Promise.all([tokens.token(), tokens.token()]);
    expect(first).toBe(second);
    expect(exchanges).toEqual([{ status: 200, targetAudience: audience }]);
    expect(claims(first)).toMatchObject({ aud: audience, email });
  });

  it('reuses a token until five minutes before it expires, then mints another', async () => {
    exchanges = [];
    const time = clock();
    const tokens = new GoogleIdTokenSource({ key, audience, now: time.now });
    const first = await tokens.token();
    time.advance(55 * 60_000 - 1);
    expect(await tokens.token()).toBe(first);
    expect(exchanges).toHaveLength(1);
    time.advance(1);
    const renewed = await tokens.token();
    expect(exchanges).toHaveLength(2);
    expect(renewed).not.toBe(first);
    expect(claims(renewed).iat).toBe(Math.floor(time.now() / 1000));
  });

  it("names the token endpoint's refusal", async () => {
    refuseNext = true;
    try {
      await expect(new GoogleIdTokenSource({ key, audience, now: clock().now }).token()).rejects.toThrow(/answered 400: .*invalid_grant/);
    } finally {
      refuseNext = false;
    }
  });
});

describe('BackendClient with ID tokens', () => {
  let backend: StartedBackend;
  beforeAll(async () => {
    backend = await startTestBackend();
  });
  afterAll(() => backend?.stop());

  it('sends the bearer ID token on every inference, beside the signature', async () => {
    const rec = (await loadModelFolders(`${repoRoot}/models`)).find((f) => f.manifest.name === 'paddleocr-rec')!.manifest;
    const seen: (string | null)[] = [];
    const client = new BackendClient({
      baseUrl: backend.url.origin,
      signingSecret: testSigningSecret,
      idTokens: new GoogleIdTokenSource({ key, audience, now: clock().now }),
      defaultTimeoutMs: 10_000,
      retryJitterMs: { min: 1, max: 5 },
      breakers: new BackendBreakers({ failureThreshold: 3, coolDownMs: 60_000, now: () => Date.now() }),
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization'));
        return fetch(input, init);
      },
    });
    const infer = (requestId: string) =>
      client.infer({
        manifest: rec,
        version: '4',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 32], data: new Float32Array(3 * 48 * 32) }],
        outputNames: ['softmax_11.tmp_0'],
        requestId,
      });
    await infer('req-id-token-1');
    const result = await infer('req-id-token-2');
    expect(result.outputs[0]!.shape[0]).toBe(1);
    expect(seen).toHaveLength(2);
    for (const authorization of seen) expect(claims(authorization!.replace(/^Bearer /, ''))).toMatchObject({ aud: audience });
  });
});

describe('edge configuration', () => {
  const kv = { API_KEYS: { get: async () => null } };

  it('reads the invoker key and takes the backend URL as the audience unless BACKEND_AUDIENCE names another', () => {
    const env = { ...kv, BACKEND_URL: `${audience}/`, BACKEND_SERVICE_ACCOUNT_KEY: JSON.stringify(key) };
    expect(parseEdgeConfig(env).backend?.idToken).toEqual({ key, audience });
    expect(parseEdgeConfig({ ...env, BACKEND_AUDIENCE: 'https://backend.example.com' }).backend?.idToken?.audience).toBe(
      'https://backend.example.com',
    );
    expect(parseEdgeConfig({ ...kv, BACKEND_URL: audience }).backend?.idToken).toBeUndefined();
  });

  it('names a key that is not a service account key file, without printing it', () => {
    for (const bad of ['{not json', JSON.stringify({ ...key, type: 'authorized_user' }), JSON.stringify({ ...key, private_key: 'x' })]) {
      const parse = () => parseEdgeConfig({ ...kv, BACKEND_URL: audience, BACKEND_SERVICE_ACCOUNT_KEY: bad });
      expect(parse).toThrow(ConfigError);
      expect(parse).toThrow(/BACKEND_SERVICE_ACCOUNT_KEY:/);
      expect(parse).not.toThrow(/PRIVATE KEY/);
    }
  });
});
