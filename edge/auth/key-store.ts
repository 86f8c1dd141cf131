// API keys looked up in Workers KV by their hash, with a small per-isolate cache so a busy key costs a
// KV read once per `cacheTtlMs`, not once per request.
//
// Revocation (`npm run keys -- revoke`) marks the key's record in KV. An isolate sees it the next time
// it reads the record: at once if it has not cached the key, else once its cache entry is older than
// `cacheTtlMs`; KV itself takes up to ~60 s to carry a write to every location. A record read as
// revoked is refused at once, and the refusal is cached too, so a revoked or guessed key costs no KV
// reads while it is retried.

import { ApiKeyRecord, apiKeyKvName, constantTimeEqual, sha256Hex } from '../../protocol/api-keys.ts';
import type { Principal } from './principal.ts';

/** The one KV method the store uses; a Workers KV namespace binding has it. */
export interface KvReader {
  get(name: string): Promise<string | null>;
}

export type KeyLookup = { status: 'valid'; principal: Principal } | { status: 'unknown' } | { status: 'revoked' };

export interface ApiKeyStoreOptions {
  kv: KvReader;
  cacheTtlMs: number;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Bounds the memory guessed keys can make the cache hold. */
  maxCachedKeys?: number;
}

export class ApiKeyStore {
  readonly #kv: KvReader;
  readonly #cacheTtlMs: number;
  readonly #now: () => number;
  readonly #maxCachedKeys: number;
  // Keyed by the key's full hash; Map keeps insertion order, so the first entry is the oldest.
  readonly #cache = new Map<string, { lookup: KeyLookup; expiresAtMs: number }>();

  constructor(options: ApiKeyStoreOptions) {
    this.#kv = options.kv;
    this.#cacheTtlMs = options.cacheTtlMs;
    this.#now = options.now;
    this.#maxCachedKeys = options.maxCachedKeys ?? 1000;
  }

  /** The key's caller when this isolate holds it as valid and fresh: no KV read. Undefined otherwise. */
  async cachedValid(apiKey: string): Promise<Principal | undefined> {
    const cached = this.#cache.get(await sha256Hex(apiKey));
    return cached && cached.expiresAtMs > this.#now() && cached.lookup.status === 'valid' ? cached.lookup.principal : undefined;
  }

  async lookup(apiKey: string): Promise<KeyLookup> {
    const sha256 = await sha256Hex(apiKey);
    const now = this.#now();
    const cached = this.#cache.get(sha256);
    if (cached && cached.expiresAtMs > now) return cached.lookup;

    const lookup = await this.#read(sha256);
    this.#cache.delete(sha256);
    if (this.#cacheTtlMs > 0) {
      if (this.#cache.size >= this.#maxCachedKeys) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(sha256, { lookup, expiresAtMs: now + this.#cacheTtlMs });
    }
    return lookup;
  }

  async #read(sha256: string): Promise<KeyLookup> {
    const stored = await this.#kv.get(apiKeyKvName(sha256));
    if (stored === null) return { status: 'unknown' };
    let json: unknown;
    try {
      json = JSON.parse(stored);
    } catch {
      json = undefined;
    }
    const parsed = ApiKeyRecord.safeParse(json);
    // A record we cannot read is our fault, not the caller's: a 500 whose log names the field, never the key.
    if (!parsed.success)
      throw new Error(`an API key record in KV is invalid: ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`);
    const record = parsed.data;
    if (!constantTimeEqual(record.sha256, sha256)) return { status: 'unknown' };
    if (record.revokedAt !== undefined) return { status: 'revoked' };
    return {
      status: 'valid',
      principal: { kind: 'api-key', id: record.id, owner: record.owner, plan: record.plan, models: record.models },
    };
  }
}
