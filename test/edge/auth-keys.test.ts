import { getPlatformProxy } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyKvName, apiKeyPattern, constantTimeEqual, generateApiKey, generateKeyId, sha256Hex } from '../../protocol/api-keys.ts';
import { readCredential } from '../../edge/auth/credentials.ts';
import { ApiKeyStore, type KvReader } from '../../edge/auth/key-store.ts';
import { ConfigError, parseEdgeConfig } from '../../edge/config.ts';
import { seedApiKey, type TestKv } from '../support/api-keys.ts';
import { repoRoot } from '../support/edge-worker.ts';
import { thrownHttpError } from '../support/errors.ts';

describe('API key generation and hashing', () => {
  it('makes prefixed keys with 192 random bits that never repeat', () => {
    const keys = Array.from({ length: 2000 }, () => generateApiKey());
    for (const key of keys) {
      expect(key).toMatch(/^ei_live_[A-Za-z0-9_-]{32}$/);
      expect(key).toMatch(apiKeyPattern);
    }
    expect(new Set(keys).size).toBe(keys.length);
    expect(generateApiKey('dev')).toMatch(/^ei_dev_/);
  });

  it('uses every base64url character about equally often', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++)
      for (const char of generateApiKey().slice('ei_live_'.length, -1)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(64);
    const expected = (4000 * 31) / 64;
    for (const count of counts.values()) expect(Math.abs(count - expected) / expected).toBeLessThan(0.15);
  });

  it('makes ids unrelated to the key', () => {
    const ids = Array.from({ length: 1000 }, generateKeyId);
    for (const id of ids) expect(id).toMatch(/^key_[A-Za-z0-9]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('hashes with SHA-256 as lowercase hex and files the record under the hash', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(apiKeyKvName(await sha256Hex('abc'))).toBe('key:ba7816bf8f01cfea414140de5dae2223');
  });

  it('compares equal strings as equal and any difference, anywhere, as different', () => {
    const hash = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(constantTimeEqual(hash, hash.slice())).toBe(true);
    for (const at of [0, 31, 63])
      expect(constantTimeEqual(hash, hash.slice(0, at) + (hash[at] === '0' ? '1' : '0') + hash.slice(at + 1))).toBe(false);
    expect(constantTimeEqual(hash, hash.slice(0, 63))).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

describe('readCredential', () => {
  const key = generateApiKey();
  it('tells keys from JWTs by prefix and shape', () => {
    expect(readCredential({ authorization: `Bearer ${key}`, apiKey: undefined })).toEqual({ kind: 'api-key', apiKey: key });
    expect(readCredential({ authorization: undefined, apiKey: key })).toEqual({ kind: 'api-key', apiKey: key });
    expect(readCredential({ authorization: 'bearer aaa.bbb.ccc', apiKey: undefined })).toEqual({ kind: 'jwt', token: 'aaa.bbb.ccc' });
  });

  it('refuses what is missing, doubled or of no known shape without repeating it', () => {
    const cases = [
      { authorization: undefined, apiKey: undefined },
      { authorization: `Bearer ${key}`, apiKey: key },
      { authorization: `Token ${key}`, apiKey: undefined },
      { authorization: `Bearer ${key}!`, apiKey: undefined },
      { authorization: 'Bearer aaa.bbb', apiKey: undefined },
    ];
    for (const headers of cases) {
      const err = thrownHttpError(() => readCredential(headers));
      expect(err.status).toBe(401);
      expect(`${err.message} ${err.headers['WWW-Authenticate']}`).not.toContain(key);
    }
  });
});

describe('ApiKeyStore over a real KV namespace', () => {
  let proxy: Awaited<ReturnType<typeof getPlatformProxy<{ API_KEYS: TestKv & KvReader }>>>;
  let clockMs = 1_700_000_000_000;
  const reads: string[] = [];
  let kv: KvReader;
  beforeAll(async () => {
    proxy = await getPlatformProxy<{ API_KEYS: TestKv & KvReader }>({ configPath: `${repoRoot}/wrangler.toml`, persist: false });
    kv = { get: (name) => (reads.push(name), proxy.env.API_KEYS.get(name)) };
  });
  afterAll(() => proxy?.dispose());
  const store = (cacheTtlMs = 10_000) => new ApiKeyStore({ kv, cacheTtlMs, now: () => clockMs });

  it('finds a key by its hash and answers its principal', async () => {
    const seeded = await seedApiKey(proxy.env.API_KEYS, { owner: 'acme', plan: 'free', models: ['silero-vad'] });
    expect(await store().lookup(seeded.apiKey)).toEqual({
      status: 'valid',
      principal: { kind: 'api-key', id: seeded.record.id, owner: 'acme', plan: 'free', models: ['silero-vad'] },
    });
    expect(await store().lookup(generateApiKey())).toEqual({ status: 'unknown' });
  });

  it('reads KV once per key per cache TTL, and sees a revocation once the entry expires', async () => {
    const seeded = await seedApiKey(proxy.env.API_KEYS);
    const keys = store(10_000);
    reads.length = 0;
    expect((await keys.lookup(seeded.apiKey)).status).toBe('valid');
    await seeded.revoke();
    clockMs += 9_999;
    expect((await keys.lookup(seeded.apiKey)).status).toBe('valid');
    expect(reads).toHaveLength(1);
    clockMs += 1;
    expect((await keys.lookup(seeded.apiKey)).status).toBe('revoked');
    expect((await keys.lookup(seeded.apiKey)).status).toBe('revoked');
    expect(reads).toHaveLength(2);
  });

  it('with a TTL of 0 caches nothing, so a revocation is seen on the next request', async () => {
    const seeded = await seedApiKey(proxy.env.API_KEYS);
    const keys = store(0);
    expect((await keys.lookup(seeded.apiKey)).status).toBe('valid');
    await seeded.revoke();
    expect((await keys.lookup(seeded.apiKey)).status).toBe('revoked');
  });

  it('does not accept a record filed under the key but holding another hash', async () => {
    const key = generateApiKey();
    const other = await seedApiKey(proxy.env.API_KEYS);
    await proxy.env.API_KEYS.put(apiKeyKvName(await sha256Hex(key)), JSON.stringify(other.record));
    expect(await store().lookup(key)).toEqual({ status: 'unknown' });
  });

  it('fails loudly, without the key, on a record that does not validate', async () => {
    const key = generateApiKey();
    await proxy.env.API_KEYS.put(apiKeyKvName(await sha256Hex(key)), JSON.stringify({ id: 'nope' }));
    const err = await store()
      .lookup(key)
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).toMatch(/record in KV is invalid/);
    expect(err?.message).not.toContain(key);
  });
});

describe('edge auth configuration', () => {
  const kv = { get: async () => null };
  const configError = (env: Record<string, unknown>) => {
    try {
      parseEdgeConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('accepts API keys only when no JWT key is configured', () => {
    expect(parseEdgeConfig({ API_KEYS: kv }).auth).toMatchObject({ apiKeyCacheTtlMs: 1_000, jwt: undefined });
  });

  it('defaults the HS256 allowlist for a secret and names every missing or conflicting variable', () => {
    expect(parseEdgeConfig({ API_KEYS: kv, JWT_SECRET: 'x'.repeat(32), JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }).auth.jwt).toMatchObject({
      algorithms: ['HS256'],
      issuer: 'i',
      audience: 'a',
    });
    expect(configError({})).toMatch(/API_KEYS: must be a KV namespace binding/);
    expect(configError({ API_KEYS: kv, JWT_SECRET: 'short' })).toMatch(/JWT_SECRET: must be at least 32/);
    const missing = configError({ API_KEYS: kv, JWT_SECRET: 'x'.repeat(32) });
    expect(missing).toMatch(/JWT_ISSUER: required/);
    expect(missing).toMatch(/JWT_AUDIENCE: required/);
    expect(configError({ API_KEYS: kv, JWT_SECRET: 'x'.repeat(32), JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHMS: 'RS256' })).toMatch(
      /JWT_ALGORITHMS: RS256 cannot be verified with JWT_SECRET/,
    );
    expect(
      configError({
        API_KEYS: kv,
        JWT_JWKS_URL: 'https://auth.example.com/jwks',
        JWT_ISSUER: 'i',
        JWT_AUDIENCE: 'a',
        JWT_ALGORITHMS: 'none',
      }),
    ).toMatch(/JWT_ALGORITHMS: one of/);
  });
});
