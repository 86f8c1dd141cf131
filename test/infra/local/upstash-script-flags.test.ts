import { createHash } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../../infra/local/local-upstash.ts';
import { withoutUpstashOnlyFlags } from '../../../infra/local/upstash-rest/upstash-script-flags.ts';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('withoutUpstashOnlyFlags', () => {
  it('drops allow-key-locking and keeps the shebang, so the script still declares its flags', () => {
    expect(withoutUpstashOnlyFlags('#!lua flags=allow-key-locking\nreturn 1')).toBe('#!lua\nreturn 1');
  });

  it('keeps the flags redis-server knows', () => {
    expect(withoutUpstashOnlyFlags('#!lua flags=no-writes,allow-key-locking\nreturn 1')).toBe('#!lua flags=no-writes\nreturn 1');
  });

  it('leaves scripts without the flag, or without a shebang, byte for byte', () => {
    for (const script of ['return 1', '#!lua flags=no-writes\nreturn 1', '#!lua\nreturn 1', '-- #!lua flags=allow-key-locking']) {
      expect(withoutUpstashOnlyFlags(script)).toBe(script);
    }
  });
});

describe('scripts with Upstash-only flags through the local endpoint', () => {
  let local: LocalUpstash;
  let redis: Redis;
  const script = '#!lua flags=allow-key-locking\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])';

  beforeAll(async () => {
    local = await startLocalUpstash();
    redis = new Redis({ url: local.url, token: local.token, enableTelemetry: false });
  });

  afterAll(() => local?.stop());

  it('runs them with eval, where redis-server alone would refuse the shebang', async () => {
    expect(await redis.eval(script, ['flags:a'], ['2'])).toBe(2);
  });

  it('answers script load with the SHA-1 of the script the client sent, and runs it by that SHA-1', async () => {
    const sha = await redis.scriptLoad(script);
    expect(sha).toBe(sha1(script));
    expect(await redis.scriptExists(sha)).toEqual([1]);
    expect(await redis.evalsha(sha, ['flags:b'], ['3'])).toBe(3);
  });

  it('runs them by their SHA-1 in a pipeline and a transaction, as @upstash/ratelimit does', async () => {
    const sha = sha1(script);
    expect(await redis.pipeline().evalsha(sha, ['flags:c'], ['1']).evalsha(sha, ['flags:c'], ['1']).exec()).toEqual([1, 2]);
    expect(await redis.multi().evalsha(sha, ['flags:c'], ['1']).exec()).toEqual([3]);
  });

  it('forgets the SHA-1s on script flush, answering NOSCRIPT like redis-server', async () => {
    const sha = await redis.scriptLoad(script);
    await redis.scriptFlush();
    await expect(redis.evalsha(sha, ['flags:d'], ['1'])).rejects.toThrow(/NOSCRIPT/);
  });
});
