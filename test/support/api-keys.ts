// API keys for tests: real keys, hashed and written to a real KV namespace exactly as `npm run keys`
// writes them, so the Worker under test looks them up the way it does in production.

import {
  type ApiKeyRecord,
  apiKeyKvName,
  generateApiKey,
  generateKeyId,
  type ModelAllowance,
  type Plan,
  sha256Hex,
} from '../../protocol/api-keys.ts';

/** The KV methods tests use: a Workers KV namespace, here reached through Miniflare. */
export interface TestKv {
  get(name: string): Promise<string | null>;
  put(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

export interface SeededKey {
  apiKey: string;
  record: ApiKeyRecord;
  /** Marks the record revoked, as `npm run keys -- revoke` does. */
  revoke(): Promise<void>;
}

export async function seedApiKey(kv: TestKv, options: { owner?: string; plan?: Plan; models?: ModelAllowance } = {}): Promise<SeededKey> {
  const apiKey = generateApiKey('live');
  const sha256 = await sha256Hex(apiKey);
  const record: ApiKeyRecord = {
    id: generateKeyId(),
    sha256,
    owner: options.owner ?? 'test-suite',
    plan: options.plan ?? 'pro',
    models: options.models ?? '*',
    createdAt: new Date().toISOString(),
  };
  await kv.put(apiKeyKvName(sha256), JSON.stringify(record));
  return {
    apiKey,
    record,
    revoke: () => kv.put(apiKeyKvName(sha256), JSON.stringify({ ...record, revokedAt: new Date().toISOString() })),
  };
}
