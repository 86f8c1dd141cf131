// The endpoint's wire shapes, met with plain HTTP requests, as Upstash's REST API documents them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRedisServer, startRedisServer } from '../../../infra/local/redis-server.ts';
import { createUpstashRestApp } from '../../../infra/local/upstash-rest/app.ts';
import { RedisPool } from '../../../infra/local/upstash-rest/redis-pool.ts';

const token = 'test-token';
let redisServer: RunningRedisServer;
let pool: RedisPool;
let app: ReturnType<typeof createUpstashRestApp>;

beforeAll(async () => {
  redisServer = await startRedisServer();
  pool = new RedisPool({ host: redisServer.host, port: redisServer.port });
  app = createUpstashRestApp({ pool, token, maxBodyBytes: 1024 });
});

afterAll(async () => {
  pool?.close();
  await redisServer?.stop();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('the Upstash REST endpoint', () => {
  it('answers a command with {"result"} and status 200', async () => {
    const response = await post('/', ['SET', 'rest:a', 'v']);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: 'OK' });
  });

  it('takes numbers and booleans as arguments, as @upstash/redis sends them', async () => {
    await post('/', ['SET', 'rest:n', 5]);
    expect(await (await post('/', ['INCRBY', 'rest:n', 2.0])).json()).toEqual({ result: 7 });
    expect(await (await post('/', ['SET', 'rest:b', true])).json()).toEqual({ result: 'OK' });
    expect(await (await post('/', ['GET', 'rest:b'])).json()).toEqual({ result: 'true' });
  });

  it('answers a failed command with {"error"} carrying Redis\'s message and status 400', async () => {
    const response = await post('/', ['HGET', 'rest:a', 'field']);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'WRONGTYPE Operation against a key holding the wrong kind of value' });
  });

  it('answers a pipeline with one {"result"} or {"error"} per command, in order, and status 200', async () => {
    const response = await post('/pipeline', [
      ['SET', 'rest:p', '1'],
      ['HGET', 'rest:p', 'f'],
      ['INCR', 'rest:p'],
      ['GET', 'rest:missing'],
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      { result: 'OK' },
      { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
      { result: 2 },
      { result: null },
    ]);
  });

  it("answers a transaction in the pipeline's shape", async () => {
    const response = await post('/multi-exec', [
      ['SET', 'rest:t', 'x'],
      ['GET', 'rest:t'],
    ]);
    expect(await response.json()).toEqual([{ result: 'OK' }, { result: 'x' }]);
  });

  it('answers a transaction Redis discarded with one {"error"}, status 400, and runs none of it', async () => {
    const response = await post('/multi-exec', [['SET', 'rest:discarded', 'x'], ['NOSUCHCOMMAND']]);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/^EXECABORT .*command 2: ERR unknown command 'NOSUCHCOMMAND'/);
    expect(await (await post('/', ['EXISTS', 'rest:discarded'])).json()).toEqual({ result: 0 });
  });

  it('encodes every string of a result in base64 when asked with Upstash-Encoding, keeping the bytes exact', async () => {
    await post('/', ['SET', 'rest:bytes', 'é ✓']);
    const base64 = { 'upstash-encoding': 'base64' };
    expect(await (await post('/', ['GET', 'rest:bytes'], base64)).json()).toEqual({ result: Buffer.from('é ✓').toString('base64') });
    expect(await (await post('/', ['MGET', 'rest:bytes', 'rest:missing'], base64)).json()).toEqual({
      result: [Buffer.from('é ✓').toString('base64'), null],
    });
    expect(await (await post('/', ['STRLEN', 'rest:bytes'], base64)).json()).toEqual({ result: 6 });
    expect(await (await post('/', ['PING'], base64)).json()).toEqual({ result: Buffer.from('PONG').toString('base64') });
    expect(await (await post('/', ['SET', 'rest:bytes', 'OK'], base64)).json()).toEqual({ result: 'OK' });
    expect(await (await post('/pipeline', [['GET', 'rest:bytes']], base64)).json()).toEqual([{ result: 'T0s=' }]);
  });

  it('gives bulk strings as plain JSON strings without Upstash-Encoding', async () => {
    await post('/', ['SET', 'rest:plain', 'é ✓']);
    expect(await (await post('/', ['GET', 'rest:plain'])).json()).toEqual({ result: 'é ✓' });
  });

  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['another scheme', { authorization: `Basic ${token}` }],
  ])('refuses a request with %s: 401 and {"error"}', async (_name, headers) => {
    const response = await app.request('/', { method: 'POST', headers, body: '["PING"]' });
    expect(response.status).toBe(401);
    expect((await response.json()).error).toMatch(/^Unauthorized/);
  });

  it('accepts the token as the _token query parameter, as Upstash does', async () => {
    const response = await app.request(`/?_token=${token}`, { method: 'POST', body: '["PING"]' });
    expect(await response.json()).toEqual({ result: 'PONG' });
  });

  it.each([
    ['not JSON', 'SET a b'],
    ['an object', '{"command":"PING"}'],
    ['an empty command', '[]'],
    ['a nested value', '["SET","a",{"b":1}]'],
  ])('rejects a body that is %s with 400', async (_name, body) => {
    const response = await post('/', body);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/^ERR malformed request body/);
  });

  it.each([['MULTI'], ['SELECT', '1'], ['SUBSCRIBE', 'c'], ['CLIENT', 'REPLY', 'OFF']])(
    'refuses %s, which would change the state of a shared connection',
    async (...command) => {
      const response = await post('/', command);
      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatch(/is not supported by this REST endpoint/);
    },
  );

  it('refuses a body over the size limit with 413', async () => {
    const response = await post('/', ['SET', 'rest:big', 'x'.repeat(2048)]);
    expect(response.status).toBe(413);
  });

  it('answers an unknown route with 404 and {"error"}', async () => {
    const response = await post('/get/rest:a', []);
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatch(/POST a command to \/, \/pipeline or \/multi-exec/);
  });
});

describe('the Upstash REST endpoint when redis-server is down', () => {
  it('answers 503 with {"error"} at once instead of hanging', async () => {
    const doomed = await startRedisServer();
    const doomedPool = new RedisPool({ host: doomed.host, port: doomed.port });
    const doomedApp = createUpstashRestApp({ pool: doomedPool, token });
    expect((await doomedApp.request('/', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '["PING"]' })).status).toBe(
      200,
    );
    await doomed.stop();
    const response = await doomedApp.request('/', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '["PING"]' });
    expect(response.status).toBe(503);
    expect((await response.json()).error).toMatch(/^redis-server is unavailable/);
    doomedPool.close();
  });
});
