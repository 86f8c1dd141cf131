import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeaders, signRequest } from '../../protocol/signature.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { tensor } from '../support/infer.ts';

const path = '/v2/models/paddleocr-rec/infer';
const body = new TextEncoder().encode(JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 48, 8], new Float32Array(3 * 48 * 8))] }));

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend();
});
afterAll(() => server?.stop());

const post = (headers: Record<string, string>, bytes: Uint8Array = body) =>
  server.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: bytes as Uint8Array<ArrayBuffer>,
  });

async function expect401(res: Response, message: RegExp): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBeTruthy();
  expect(((await res.json()) as { error: string }).error).toMatch(message);
}

describe('edge signature on inference routes', () => {
  it('passes a request the edge signed', async () => {
    expect((await post(await signRequest(testSigningSecret, 'POST', path, body, Date.now()))).status).toBe(200);
  });

  it('answers 401 to a request without a signature', async () => {
    await expect401(await post({}), /missing request signature/);
  });

  it('answers 401 to a signature made with another secret', async () => {
    await expect401(
      await post(await signRequest('another-secret-of-at-least-32-characters', 'POST', path, body, Date.now())),
      /does not match/,
    );
  });

  it('answers 401 when the body differs from the one signed', async () => {
    const headers = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    const tampered = body.slice();
    tampered[tampered.length - 3] = '1'.charCodeAt(0);
    await expect401(await post(headers, tampered), /does not match/);
  });

  it('answers 401 when the signature was made for another path', async () => {
    await expect401(
      await post(await signRequest(testSigningSecret, 'POST', '/v2/models/paddleocr-det/infer', body, Date.now())),
      /does not match/,
    );
  });

  it('answers 401 to a signature older than five minutes', async () => {
    await expect401(await post(await signRequest(testSigningSecret, 'POST', path, body, Date.now() - 6 * 60_000)), /expired/);
  });

  it('answers 401 to a malformed signature header', async () => {
    const headers = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    await expect401(await post({ ...headers, [signatureHeaders.signature]: 'zz' }), /does not match/);
  });

  it('leaves health and metadata routes open', async () => {
    for (const open of [
      '/v2',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/paddleocr-rec',
      '/v2/models/paddleocr-rec/ready',
      '/metrics',
    ]) {
      expect((await server.fetch(open)).status, open).toBe(200);
    }
  });
});

describe('EDGE_SIGNATURE_REQUIRED=false', () => {
  it('serves unsigned inference and says so in the log', async () => {
    const open = await startTestBackend({ EDGE_SIGNATURE_REQUIRED: 'false', EDGE_SIGNING_SECRET: '' });
    try {
      expect((await open.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
      expect(open.logs.join('\n')).toMatch(/WARNING: EDGE_SIGNATURE_REQUIRED=false/);
    } finally {
      await open.stop();
    }
  });
});
