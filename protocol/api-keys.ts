// API keys as both the edge and `npm run keys` see them: the key's format, how it is generated and
// hashed, where its record lives in Workers KV, and the record's schema. Only the SHA-256 of a key is
// ever stored; the key itself is shown once, when it is created.

import { z } from 'zod';

/** `ei_live_…` for keys made for callers, `ei_dev_…` for local development. */
export const apiKeyPrefixes = { live: 'ei_live_', dev: 'ei_dev_' } as const;
export type ApiKeyKind = keyof typeof apiKeyPrefixes;

// 24 random bytes: 192 bits, 32 base64url characters. A chosen key (EDGEINFER_DEV_KEY) needs at least
// 22 characters, 128 bits' worth.
const randomBytes = 24;
export const apiKeyPattern = /^ei_(live|dev)_[A-Za-z0-9_-]{22,128}$/;

export const plans = ['free', 'pro'] as const;
export const Plan = z.enum(plans);
export type Plan = z.infer<typeof Plan>;

/** What a key may call: a list of model names, or `*` for every model. */
export const ModelAllowance = z.union([z.literal('*'), z.array(z.string().min(1)).min(1)]);
export type ModelAllowance = z.infer<typeof ModelAllowance>;

export const ApiKeyRecord = z.object({
  id: z.string().regex(/^key_[A-Za-z0-9]{8,64}$/),
  /** The key's SHA-256, lowercase hex: compared in constant time with the presented key's. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  owner: z.string().min(1).max(200),
  plan: Plan,
  models: ModelAllowance,
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function generateApiKey(kind: ApiKeyKind = 'live'): string {
  return apiKeyPrefixes[kind] + base64url(crypto.getRandomValues(new Uint8Array(randomBytes)));
}

const idAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A key's public name (logs, metering, `keys list`, `keys revoke`): random, unrelated to the key. */
export function generateKeyId(): string {
  // 248 is the largest multiple of 62 below 256: rejecting bytes above it keeps every character equally likely.
  let id = '';
  while (id.length < 16) {
    for (const byte of crypto.getRandomValues(new Uint8Array(32))) {
      if (byte < 248 && id.length < 16) id += idAlphabet[byte % 62];
    }
  }
  return `key_${id}`;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Equality whose running time depends only on the length, not on where the strings first differ, so
 * timing a comparison tells nothing about a stored hash. (Lengths are public: a SHA-256 is 64 hex digits.)
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * The KV name of a key's record: the first 128 bits of its hash. The record holds the whole hash,
 * which is compared in constant time; the name is only an index, so KV's lookup time reveals nothing.
 */
export const apiKeyKvPrefix = 'key:';
export function apiKeyKvName(sha256: string): string {
  return apiKeyKvPrefix + sha256.slice(0, 32);
}

export function modelAllowed(models: '*' | readonly string[], model: string): boolean {
  return models === '*' || models.includes(model);
}
