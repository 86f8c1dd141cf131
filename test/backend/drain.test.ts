// The drain's two answers, on a real backend in this process, driven by hand rather than by the clock:
// a request in progress at the cut is answered 503 with Retry-After (never left to a reset), and a new
// request while draining is answered 503 at once. test/backend/shutdown.test.ts drives them by SIGTERM.

import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signRequest } from '../../protocol/signature.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { tensor } from '../support/infer.ts';

const path = '/v2/models/paddleocr-rec/infer';
const body = new TextEncoder().encode(JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 48, 8], new Float32Array(3 * 48 * 8))] }));

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend();
});
afterAll(() => server?.stop());

describe('draining', () => {
  it('answers a request still in progress at the cut 503 with Retry-After, then new requests 503 at once', async () => {
    // Half a signed body: the server is reading it when the cut comes.
    const signed = await signRequest(testSigningSecret, 'POST', path, body, Date.now());
    const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(new URL(path, server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...signed },
        agent: false,
      });
      req.on('response', resolve).on('error', reject);
      req.write(body.subarray(0, body.length / 2));
    });
    await vi.waitFor(() => expect(server.backend.inFlight.count).toBe(1));
    server.backend.deps.drain.cut();
    const held = await answered;
    expect(held.statusCode).toBe(503);
    expect(held.headers['retry-after']).toBe('1');
    expect(held.headers.connection).toBe('close');

    const next = await server.signedRaw(path, body);
    expect(next.status).toBe(503);
    expect(next.headers.get('retry-after')).toBe('1');
    expect(((await next.json()) as { error: string }).error).toMatch(/shutting down/);
    expect((await server.fetch('/v2/health/live')).status).toBe(200);
  });
});
