// What `npm run keys` does, over a KeyNamespace: create a key (shown once), list keys (never a key or
// a whole hash), revoke one by id, and make sure local development has its key.

import {
  type ApiKeyKind,
  type ApiKeyRecord,
  apiKeyKvName,
  apiKeyPattern,
  generateApiKey,
  generateKeyId,
  type ModelAllowance,
  type Plan,
  sha256Hex,
} from '../../protocol/api-keys.ts';
import type { AuditLog } from '../../protocol/audit.ts';
import type { KeyNamespace } from './kv.ts';

/** Where key events are recorded: every creation and revocation is one audit line (protocol/audit.ts). */
export interface KeyAudit {
  audit: AuditLog;
  /** Which API_KEYS namespace the command changed. */
  namespace: 'local' | 'remote';
}

// Workers KV keeps at most 1024 bytes of metadata per name, and `list` reads records from there.
const maxRecordBytes = 1024;
export const devKeyOwner = 'local-development';

export interface CreatedKey {
  apiKey: string;
  record: ApiKeyRecord;
}

export async function createKey(
  kv: KeyNamespace,
  options: { owner: string; plan: Plan; models: ModelAllowance; kind?: ApiKeyKind; apiKey?: string; now?: Date },
  events: KeyAudit,
): Promise<CreatedKey> {
  const apiKey = options.apiKey ?? generateApiKey(options.kind ?? 'live');
  const sha256 = await sha256Hex(apiKey);
  const record: ApiKeyRecord = {
    id: generateKeyId(),
    sha256,
    owner: options.owner,
    plan: options.plan,
    models: options.models,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  if (new TextEncoder().encode(JSON.stringify(record)).length > maxRecordBytes) {
    throw new Error(`the key's record is over ${maxRecordBytes} bytes: name fewer models, or '*'`);
  }
  await kv.put(apiKeyKvName(sha256), record);
  events.audit({
    event: 'key-created',
    keyId: record.id,
    owner: record.owner,
    plan: record.plan,
    models: record.models,
    namespace: events.namespace,
  });
  return { apiKey, record };
}

/** The first 8 hex digits of a hash: enough to tell keys apart in a listing, useless to an attacker. */
export function describeKeys(entries: readonly { record: ApiKeyRecord }[]): string {
  const rows = entries
    .map(({ record }) => record)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((r) => [
      r.id,
      r.owner,
      r.plan,
      r.models === '*' ? '*' : r.models.join(','),
      r.createdAt,
      r.revokedAt ?? '-',
      `${r.sha256.slice(0, 8)}…`,
    ]);
  const table = [['id', 'owner', 'plan', 'models', 'created', 'revoked', 'sha256'], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  return table
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Marks the key revoked, keeping its record for `list`; undefined when no key has that id. */
export async function revokeKey(kv: KeyNamespace, id: string, events: KeyAudit, now = new Date()): Promise<ApiKeyRecord | undefined> {
  const entry = (await kv.list()).find(({ record }) => record.id === id);
  if (!entry) return undefined;
  if (entry.record.revokedAt) return entry.record;
  const revoked = { ...entry.record, revokedAt: now.toISOString() };
  await kv.put(entry.name, revoked);
  events.audit({ event: 'key-revoked', keyId: revoked.id, owner: revoked.owner, namespace: events.namespace });
  return revoked;
}

export type DevKeyOutcome =
  | { status: 'created'; apiKey: string; record: ApiKeyRecord }
  | { status: 'exists'; record: ApiKeyRecord }
  | { status: 'chosen'; record: ApiKeyRecord; created: boolean };

/**
 * One development key in the local namespace. With `chosenKey` (EDGEINFER_DEV_KEY) that exact value
 * becomes it and any other development key is revoked; without, a key is made once and kept.
 */
export async function ensureDevKey(kv: KeyNamespace, chosenKey: string | undefined, events: KeyAudit): Promise<DevKeyOutcome> {
  const devKeys = (await kv.list()).filter(({ record }) => record.owner === devKeyOwner && !record.revokedAt);
  if (chosenKey === undefined) {
    const existing = devKeys[0];
    if (existing) return { status: 'exists', record: existing.record };
    const { apiKey, record } = await createKey(kv, { owner: devKeyOwner, plan: 'pro', models: '*', kind: 'dev' }, events);
    return { status: 'created', apiKey, record };
  }
  if (!apiKeyPattern.test(chosenKey)) {
    throw new Error('EDGEINFER_DEV_KEY must look like a key: ei_dev_ (or ei_live_) and 22 to 128 characters of A-Z a-z 0-9 _ -');
  }
  const sha256 = await sha256Hex(chosenKey);
  const current = devKeys.find(({ record }) => record.sha256 === sha256);
  for (const { record } of devKeys) if (record !== current?.record) await revokeKey(kv, record.id, events);
  if (current) return { status: 'chosen', record: current.record, created: false };
  const { record } = await createKey(kv, { owner: devKeyOwner, plan: 'pro', models: '*', apiKey: chosenKey }, events);
  return { status: 'chosen', record, created: true };
}
