// @upstash/redis, unmodified, against the local endpoint and a real redis-server: what the edge will do.

import { Redis } from '@upstash/redis';
import { Redis as WorkersRedis } from '@upstash/redis/cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../../infra/local/local-upstash.ts';

let local: LocalUpstash;
let redis: Redis;
let keyCount = 0;
const newKey = () => `test:${++keyCount}`;

beforeAll(async () => {
  local = await startLocalUpstash();
  redis = new Redis({ url: local.url, token: local.token, enableTelemetry: false });
});

afterAll(() => local?.stop());

describe('single commands', () => {
  it('sets and gets strings, numbers and JSON objects as @upstash/redis stores them', async () => {
    const [text, count, object] = [newKey(), newKey(), newKey()];
    expect(await redis.set(text, 'hello')).toBe('OK');
    await redis.set(count, 42);
    await redis.set(object, { plan: 'pro', models: ['silero-vad'] });
    expect(await redis.get(text)).toBe('hello');
    expect(await redis.get(count)).toBe(42);
    expect(await redis.get(object)).toEqual({ plan: 'pro', models: ['silero-vad'] });
  });

  it('answers null for a missing key', async () => {
    expect(await redis.get(newKey())).toBeNull();
  });

  it('counts with incr and incrby, and expires keys with a ttl', async () => {
    const key = newKey();
    expect(await redis.incr(key)).toBe(1);
    expect(await redis.incrby(key, 9)).toBe(10);
    expect(await redis.expire(key, 100)).toBe(1);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    await redis.set(key, 'x', { px: 1 });
    expect(await redis.pttl(key)).toBeLessThanOrEqual(1);
  });

  it('writes and reads hashes', async () => {
    const key = newKey();
    expect(await redis.hset(key, { requests: 3, tier: 'edge' })).toBe(2);
    expect(await redis.hincrby(key, 'requests', 2)).toBe(5);
    expect(await redis.hgetall(key)).toEqual({ requests: 5, tier: 'edge' });
    expect(await redis.hget(key, 'missing')).toBeNull();
  });

  it('keeps sorted sets in score order', async () => {
    const key = newKey();
    expect(await redis.zadd(key, { score: 2, member: 'b' }, { score: 1, member: 'a' }, { score: 3, member: 'c' })).toBe(3);
    expect(await redis.zrange(key, 0, -1)).toEqual(['a', 'b', 'c']);
    expect(await redis.zrange(key, 0, 0, { withScores: true })).toEqual(['a', 1]);
    expect(await redis.zremrangebyscore(key, 0, 1)).toBe(1);
    expect(await redis.zcard(key)).toBe(2);
  });

  it('reads several keys with mget and lists with lrange', async () => {
    const [a, b, list] = [newKey(), newKey(), newKey()];
    await redis.mset({ [a]: 'x', [b]: 'y' });
    expect(await redis.mget(a, b, newKey())).toEqual(['x', 'y', null]);
    await redis.rpush(list, 'one', 'two');
    expect(await redis.lrange(list, 0, -1)).toEqual(['one', 'two']);
  });

  it("throws Redis's own message when a command meets the wrong type", async () => {
    const key = newKey();
    await redis.set(key, 'a string');
    await expect(redis.hget(key, 'field')).rejects.toThrow(/WRONGTYPE Operation against a key holding the wrong kind of value/);
  });

  it("throws Redis's own message for an unknown command", async () => {
    await expect(redis.exec(['NOSUCHCOMMAND', 'x'])).rejects.toThrow(/ERR unknown command/);
  });
});

describe('response encoding', () => {
  // Values that a wrong base64 or JSON path would change: a stored "OK" (the decoder's special case),
  // a digit string, base64-looking text, non-ASCII, URL escapes, the empty string.
  const awkward = ['OK', 'VXBzdGFzaA', 'é ✓ 😀', '%%12', '', 'PONG', 'line\r\nbreak'];

  it.each([
    ['base64 (the client default)', 'base64' as const],
    ['plain JSON strings', false as const],
  ])('returns every value exactly as stored with %s', async (_name, responseEncoding) => {
    const client = new Redis({ url: local.url, token: local.token, responseEncoding, enableTelemetry: false });
    for (const value of awkward) {
      const key = newKey();
      await client.set(key, value);
      expect(await client.get(key)).toBe(value);
      expect(await client.ping()).toBe('PONG');
      expect(await client.type(key)).toBe('string');
    }
    const hash = newKey();
    await client.hset(hash, { greeting: 'é ✓', n: 1 });
    expect(await client.hgetall(hash)).toEqual({ greeting: 'é ✓', n: 1 });
  });

  it('returns the raw strings when automatic deserialization is off', async () => {
    const client = new Redis({ url: local.url, token: local.token, automaticDeserialization: false, enableTelemetry: false });
    const key = newKey();
    await client.set(key, { a: 1 });
    expect(await client.get(key)).toBe('{"a":1}');
    await client.set(key, 7);
    expect(await client.get(key)).toBe('7');
  });
});

describe('pipeline', () => {
  it('runs the commands in order and returns their results in one array', async () => {
    const key = newKey();
    const results = await redis.pipeline().set(key, 1).incr(key).get(key).del(key).exec();
    expect(results).toEqual(['OK', 2, 2, 1]);
  });

  it("names the failing command and Redis's message when one of them fails", async () => {
    const key = newKey();
    await redis.set(key, 'a string');
    await expect(redis.pipeline().get(key).hget(key, 'field').exec()).rejects.toThrow(/Command 2 \[ hget \] failed: WRONGTYPE/);
  });

  it('still runs the other commands, and reports only the failed one, with keepErrors', async () => {
    const [text, counter] = [newKey(), newKey()];
    await redis.set(text, 'a string');
    const results = await redis.pipeline().incr(counter).hget(text, 'field').incr(counter).exec({ keepErrors: true });
    expect(results.map((item) => item.error)).toEqual([undefined, expect.stringMatching(/^WRONGTYPE/), undefined]);
    expect(results[2]!.result).toBe(2);
  });
});

describe('multi-exec', () => {
  it("returns the results of the transaction's commands", async () => {
    const key = newKey();
    expect(await redis.multi().set(key, 'v').get(key).del(key).exec()).toEqual(['OK', 'v', 1]);
  });

  it('is all or nothing: a command Redis refuses while queueing discards the whole transaction', async () => {
    const [key, hash] = [newKey(), newKey()];
    // HSET with no field is refused when queued (wrong number of arguments), before anything runs.
    await expect(redis.multi().set(key, 'written').hset(hash, {}).exec()).rejects.toThrow(
      /EXECABORT.*wrong number of arguments for 'hset'/,
    );
    expect(await redis.get(key)).toBeNull();
  });

  it('reports a command that fails inside the transaction without undoing the others, as Redis does', async () => {
    const [text, counter] = [newKey(), newKey()];
    await redis.set(text, 'a string');
    const results = await redis.multi().incr(counter).hget(text, 'field').exec({ keepErrors: true });
    expect(results[0]).toEqual({ result: 1, error: undefined });
    expect(results[1]!.error).toMatch(/^WRONGTYPE/);
    expect(await redis.get(counter)).toBe(1);
  });
});

describe('scripts', () => {
  const script = 'redis.call("SET", KEYS[1], ARGV[1]); return {redis.call("GET", KEYS[1]), tonumber(ARGV[2]) * 2}';

  it('runs a script with eval', async () => {
    expect(await redis.eval(script, [newKey()], ['stored', '21'])).toEqual(['stored', 42]);
  });

  it('loads a script with script load and runs it by its sha1 with evalsha', async () => {
    const sha = await redis.scriptLoad(script);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await redis.scriptExists(sha)).toEqual([1]);
    expect(await redis.evalsha(sha, [newKey()], ['again', '1'])).toEqual(['again', 2]);
  });

  it('answers evalsha of an unknown script with NOSCRIPT, which clients take as the cue to eval', async () => {
    await expect(redis.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it('runs a createScript script on a server that has never seen it (evalsha, then eval)', async () => {
    const counter = redis.createScript<number>(`return redis.call("INCRBY", KEYS[1], ARGV[1]) -- ${Date.now()}`);
    const key = newKey();
    expect(await counter.exec([key], ['5'])).toBe(5);
    expect(await counter.exec([key], ['5'])).toBe(10);
  });
});

describe('the Workers entry point', () => {
  it('works against the endpoint as the Node one does (the edge uses @upstash/redis/cloudflare)', async () => {
    const workersRedis = new WorkersRedis({ url: local.url, token: local.token, enableTelemetry: false });
    const key = newKey();
    expect(await workersRedis.set(key, 'é ✓')).toBe('OK');
    expect(await workersRedis.get(key)).toBe('é ✓');
    expect(await workersRedis.pipeline().incr(newKey()).ping().exec()).toEqual([1, 'PONG']);
  });
});

describe('authentication', () => {
  it('refuses a wrong token with Unauthorized', async () => {
    const stranger = new Redis({ url: local.url, token: 'not-the-token', enableTelemetry: false });
    await expect(stranger.get('anything')).rejects.toThrow(/Unauthorized/);
  });
});
