import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signatureHeaders, signRequest } from '../../protocol/signature.ts';
import { metricsAuthorization, type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { tensor } from '../support/infer.ts';

const path = '/v2/models/paddleocr-rec/infer';
const body = new TextEncoder().encode(JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 48, 8], new Float32Array(3 * 48 * 8))] }));
const declaredMiB128 = String(128 * 1024 * 1024);

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

async function expectError(res: Response, status: number, message: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(((await res.json()) as { error: string }).error).toMatch(message);
}

async function expect401(res: Response, message: RegExp): Promise<void> {
  expect(res.headers.get('www-authenticate')).toBe('EdgeInfer-HMAC-SHA256');
  await expectError(res, 401, message);
}

interface EarlyAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Body bytes the client had written when the answer arrived. */
  bodyBytesSent: number;
}

/**
 * Sends only the request's headers, then `sendFirst` bytes of its body (nothing more, ever), and
 * resolves with the answer. A server that waited for the rest of the body would never answer.
 */
function headersOnly(headers: Record<string, string>, sendFirst: Uint8Array = new Uint8Array(0)): Promise<EarlyAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, server.url), { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body: text, bodyBytesSent: sendFirst.length });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
    if (sendFirst.length > 0) req.write(sendFirst);
  });
}

describe('edge signature, checked before the body is read', () => {
  it('passes a request the edge signed', async () => {
    expect((await post(await signRequest(testSigningSecret, 'POST', path, body, Date.now()))).status).toBe(200);
  });

  it('answers 401 to a request without a signature', async () => {
    await expect401(await post({}), /missing request signature/);
  });

  it('answers 401 to a signature made with another secret', async () => {
    await expect401(
      await post(await signRequest('another-secret-of-at-least-32-characters', 'POST', path, body, Date.now())),
      /unknown key id/,
    );
  });

  it('answers 401 when the body differs from the one signed', async () => {
    const headers = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    const tampered = body.slice();
    tampered[tampered.length - 3] = '1'.charCodeAt(0);
    await expect401(await post(headers, tampered), /does not match its signed hash/);
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

  it('answers 401 to 8 unsigned 128 MiB uploads before any of their bodies is sent, and closes their connections', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => headersOnly({ 'content-type': 'application/json', 'content-length': declaredMiB128 })),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.bodyBytesSent).toBe(0);
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.body).error).toMatch(/missing request signature/);
    }
    expect(server.logs.join('\n')).toMatch(/"event":"signature-refused","status":401/);
  });

  it('answers an unsigned upload to any path, known or not, before reading it', async () => {
    for (const other of ['/v1/ocr', '/v1/vad', '/predict', '/v2/models/nope/infer', '/nowhere']) {
      const req = http.request(new URL(other, server.url), { method: 'POST', headers: { 'content-length': declaredMiB128 }, agent: false });
      const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req.on('response', resolve).on('error', reject).flushHeaders();
      });
      expect(answer.statusCode, other).toBe(401);
      req.destroy();
    }
  });

  it('refuses a Content-Length that differs from the signed length, before reading the body', async () => {
    const signed = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    const answer = await headersOnly({ 'content-type': 'application/json', 'content-length': declaredMiB128, ...signed });
    expect(answer.status).toBe(400);
    expect(answer.bodyBytesSent).toBe(0);
    expect(JSON.parse(answer.body).error).toMatch(/differs from the signed body length/);
  });

  it('refuses a signed length past the route limit with 413, before reading the body', async () => {
    const big = new Uint8Array(128 * 1024 * 1024 + 1);
    const signed = await signRequest(testSigningSecret, 'POST', path, big, Date.now());
    const answer = await headersOnly({ 'content-type': 'application/json', 'content-length': String(big.length), ...signed });
    expect(answer.status).toBe(413);
    expect(answer.bodyBytesSent).toBe(0);
  });

  it('reads a chunked body only up to its signed length, refusing more with 413', async () => {
    const signed = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    const longer = new Uint8Array(body.length + 4096).fill(0x20);
    const answer = await headersOnly({ 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...signed }, longer);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error).toMatch(/longer than its signed length/);
  });

  it('answers 409 to a signed request sent a second time', async () => {
    const headers = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    expect((await post(headers)).status).toBe(200);
    await expectError(await post(headers), 409, /already used .* replayed request is refused/);
    expect(server.logs.join('\n')).toMatch(/"event":"signature-refused","status":409/);
  });

  it('leaves health and metadata routes open to GET', async () => {
    for (const open of ['/v2', '/v2/health/live', '/v2/health/ready', '/v2/models/paddleocr-rec', '/v2/models/paddleocr-rec/ready']) {
      expect((await server.fetch(open)).status, open).toBe(200);
    }
  });

  it('logs a client that goes away mid-body as client-gone, not as an unexpected error', async () => {
    const signed = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    const req = http.request(new URL(path, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...signed },
      agent: false,
    });
    req.on('error', () => {});
    req.write(body.subarray(0, 100));
    await vi.waitFor(() => expect(server.backend.inFlight.count).toBeGreaterThan(0));
    req.destroy();
    await vi.waitFor(() => expect(server.logs.join('\n')).toMatch(/client-gone: POST \/v2\/models\/paddleocr-rec\/infer/));
    expect(server.logs.join('\n')).not.toMatch(/unexpected error/);
  });
});

describe('GET /metrics', () => {
  it('answers 401 without the bearer token or with another, 200 with it', async () => {
    await expectError(await server.fetch('/metrics'), 401, /Bearer METRICS_TOKEN/);
    await expectError(await server.fetch('/metrics', { headers: { authorization: 'Bearer not-the-token' } }), 401, /does not match/);
    const res = await server.fetch('/metrics', { headers: metricsAuthorization });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('edgeinfer_backend_requests_total');
  });
});

describe('a backend with a previous signing secret and no metrics token', () => {
  const previous = 'the-previous-edge-signing-secret-32+';
  let other: StartedBackend;
  beforeAll(async () => {
    other = await startTestBackend({ EDGE_SIGNING_SECRET_PREVIOUS: previous, METRICS_TOKEN: '' });
  });
  afterAll(() => other?.stop());

  it('accepts requests signed with either secret while the edge changes over', async () => {
    for (const secret of [testSigningSecret, previous]) {
      const headers = await signRequest(secret, 'POST', path, body, Date.now());
      const res = await other.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect(res.status).toBe(200);
    }
  });

  it('has /metrics off (404), and says so in the log', async () => {
    await expectError(await other.fetch('/metrics', { headers: metricsAuthorization }), 404, /set METRICS_TOKEN/);
    expect(other.logs.join('\n')).toMatch(/GET \/metrics is off/);
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
