import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker({ vars: { CORS_ALLOWED_ORIGINS: 'https://app.example.com, https://console.example.com/' } });
});
afterAll(() => edge?.stop());

function expectSecurityHeaders(res: Response) {
  expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
}

describe('response hardening', () => {
  it('puts the security headers on answers and on errors alike', async () => {
    expectSecurityHeaders(await edge.fetch('/v2'));
    expectSecurityHeaders(await edge.fetch('/v2/models/nope'));
    expectSecurityHeaders(
      await edge.fetch('/v2/models/silero-vad/infer', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
    );
  });

  it('keeps the narrower policy of the page it serves', async () => {
    const res = await edge.fetch('/docs');
    expect(res.headers.get('content-security-policy')).toMatch(/style-src 'unsafe-inline'/);
  });

  it('answers a preflight from an allowed origin with that origin, never a wildcard', async () => {
    const res = await edge.fetch('/v2/models/silero-vad/infer', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://console.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('gives an origin that is not listed nothing to read', async () => {
    for (const origin of ['https://evil.example.com', 'null']) {
      const res = await edge.fetch('/v2', { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    const allowed = await edge.fetch('/v2', { headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/x-edgeinfer-tier/);
  });
});
