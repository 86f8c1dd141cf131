// Standard Webhooks signatures (standardwebhooks.com, v1): `webhook-signature` holds space-separated
// `v1,<base64>` entries, each HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>` keyed with the
// base64 part of a `whsec_` secret. Web Crypto only, so the edge signs and the client verifies with it.

export const webhookHeaders = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;
const secretPrefix = 'whsec_';
/** The replay window the reference libraries enforce. */
export const defaultToleranceSeconds = 5 * 60;

const encoder = new TextEncoder();

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The HMAC key of a `whsec_<base64>` secret (the spec's form; a bare base64 secret is taken too). */
function secretKey(secret: string): Uint8Array<ArrayBuffer> {
  return fromBase64(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret);
}

/** A `whsec_` secret for these key bytes (32 bytes: the HMAC-SHA256 block's worth of entropy). */
export function webhookSecret(keyBytes: Uint8Array): string {
  return `${secretPrefix}${toBase64(keyBytes)}`;
}

async function hmac(secret: string, id: string, timestamp: string, body: Uint8Array | string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', secretKey(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const bodyBytes = typeof body === 'string' ? encoder.encode(body) : body;
  const head = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(head.length + bodyBytes.length);
  signed.set(head);
  signed.set(bodyBytes, head.length);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, signed));
}

/** The three headers of one delivery: `id` is the same on every retry of a message, `timestampSeconds` is now. */
export async function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(timestampSeconds));
  return {
    [webhookHeaders.id]: id,
    [webhookHeaders.timestamp]: timestamp,
    [webhookHeaders.signature]: `v1,${toBase64(await hmac(secret, id, timestamp, body))}`,
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type WebhookVerification = { valid: true } | { valid: false; reason: string };

/**
 * Checks a delivery as received: the raw body (not re-serialised JSON), its headers, and `nowSeconds`
 * within `toleranceSeconds` of the timestamp (replay protection).
 */
export async function verifyWebhook(
  secret: string,
  headers: Headers | Record<string, string | undefined>,
  body: Uint8Array | string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Promise<WebhookVerification> {
  const get = (name: string) => (headers instanceof Headers ? (headers.get(name) ?? undefined) : headers[name]);
  const id = get(webhookHeaders.id);
  const timestamp = get(webhookHeaders.timestamp);
  const signatures = get(webhookHeaders.signature);
  if (!id || !timestamp || !signatures) return { valid: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d+$/.test(timestamp)) return { valid: false, reason: 'webhook-timestamp is not whole seconds' };
  const now = options.nowSeconds ?? Date.now() / 1000;
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? defaultToleranceSeconds))
    return { valid: false, reason: 'webhook-timestamp is outside the tolerance' };
  const expected = toBase64(await hmac(secret, id, timestamp, body));
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    return version === 'v1' && signature !== undefined && constantTimeEqual(signature, expected);
  });
  return matches ? { valid: true } : { valid: false, reason: 'no signature matches' };
}
