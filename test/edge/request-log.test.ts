// The request-id and request-log middleware on a real Hono app: one JSON line per request with what an
// operator needs, and nothing a caller sent as a secret.

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { EdgeEnv } from '../../edge/context.ts';
import { requestId } from '../../edge/middleware/request-id.ts';
import { requestLog } from '../../edge/middleware/request-log.ts';
import { errorResponse, NotFound } from '../../protocol/errors.ts';

function app(lines: string[]) {
  const a = new Hono<EdgeEnv>();
  a.use(requestId());
  a.use(requestLog((line) => lines.push(line)));
  a.post('/v2/models/:name/infer', async (c, next) => {
    c.set('principal', { kind: 'api-key', id: 'key_abcdefgh12345678', owner: 'acme', plan: 'free', models: '*' });
    await next();
  });
  a.post('/v2/models/:name/infer', (c) => c.json({ ok: true }, 200, { 'x-edgeinfer-tier': 'edge', 'ratelimit-remaining': '41' }));
  a.get('/v2/models/:name', () => {
    throw new NotFound('no such model');
  });
  a.onError((err) => errorResponse(err));
  return a;
}

describe('request id and log', () => {
  it('logs one JSON line per request with request id, key id, model, tier, status, latency and limit left', async () => {
    const lines: string[] = [];
    const res = await app(lines).request('/v2/models/silero-vad/infer', { method: 'POST', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      event: 'request',
      requestId: 'abc-123',
      method: 'POST',
      path: '/v2/models/silero-vad/infer',
      keyId: 'key_abcdefgh12345678',
      model: 'silero-vad',
      tier: 'edge',
      status: 200,
      rateLimitRemaining: 41,
      latencyMs: expect.any(Number),
    });
  });

  it('makes up an id when the caller sends none or an unusable one, and logs errors with their status', async () => {
    const lines: string[] = [];
    const res = await app(lines).request('/v2/models/nope', { headers: { 'x-request-id': 'spaces and "quotes"' } });
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ requestId: id, status: 404, model: 'nope' });
  });

  it('never writes credentials or other headers into the log', async () => {
    const lines: string[] = [];
    await app(lines).request('/v2/models/silero-vad/infer', {
      method: 'POST',
      headers: { authorization: 'Bearer ei_live_supersecretvalue', 'x-api-key': 'ei_live_othersecret', cookie: 'session=s3cr3t' },
    });
    expect(lines.join('\n')).not.toMatch(/supersecretvalue|othersecret|s3cr3t|authorization|x-api-key/i);
  });
});
