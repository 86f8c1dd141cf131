// The edge signs every request it forwards to the GPU backend, so the backend's inference routes answer
// only the edge (which has already authenticated, rate-limited and validated the caller).
//
// Scheme (HMAC-SHA256 over a shared secret, Web Crypto only, so it runs in Workers and in Node):
//
//   string to sign = `${timestampMs}\n${METHOD}\n${path}\n${sha256hex(body)}`
//   x-edgeinfer-timestamp: timestampMs   (decimal milliseconds since the Unix epoch)
//   x-edgeinfer-signature: hex(HMAC-SHA256(secret, string to sign))   (64 lower-case hex digits)
//
// - METHOD is upper-cased; `path` is the URL's pathname and query string as sent (`/v2/models/x/infer`,
//   `/v1/vad?threshold=0.6`: a task's options ride in the query). The body is hashed as the exact bytes sent
//   (empty body: the hash of zero bytes), so JSON and binary bodies are covered alike.
// - The timestamp binds the signature to a moment: the verifier accepts it within ±`maxClockSkewMs`
//   of its own clock (boundary included), which bounds replays and tolerates clock drift.
// - The signature is compared as bytes of equal length with no early exit, so response timing says
//   nothing about how much of a guess was right.

import { Unauthorized } from './errors.ts';

export const signatureHeaders = { timestamp: 'x-edgeinfer-timestamp', signature: 'x-edgeinfer-signature' } as const;

export const maxClockSkewMs = 5 * 60 * 1000;

/** The scheme named in the 401's WWW-Authenticate header. */
export const signatureScheme = 'EdgeInfer-HMAC-SHA256';

const encoder = new TextEncoder();
const signatureHexLength = 64;

// Importing the key costs more than the HMAC itself; a tier has one secret, so one cached key suffices.
let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;

function hmacKey(secret: string): Promise<CryptoKey> {
  if (cachedKey?.secret !== secret) {
    const key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    cachedKey = { secret, key };
  }
  return cachedKey.key;
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Hex digits to bytes, or undefined unless `hex` is exactly `signatureHexLength` hex digits. */
function signatureBytes(hex: string): Uint8Array | undefined {
  if (hex.length !== signatureHexLength || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

/** SHA-256 of `bytes` as 64 lower-case hex digits. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/** The exact text both sides sign; exported so other implementations can be checked against it. */
export async function stringToSign(timestampMs: number, method: string, path: string, body: Uint8Array): Promise<string> {
  return `${timestampMs}\n${method.toUpperCase()}\n${path}\n${await sha256Hex(body)}`;
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(message)));
}

/** HMAC-SHA256 of `message` under `secret`, as 64 lower-case hex digits (protocol/run-time.ts). */
export async function hmacHex(secret: string, message: string): Promise<string> {
  return toHex(await hmac(secret, message));
}

/** Whether `provided` is the same signature as `expectedHex`, compared as bytes without an early exit. */
export function timingSafeEqualHex(provided: string, expectedHex: string): boolean {
  const a = signatureBytes(provided);
  const b = signatureBytes(expectedHex);
  return a !== undefined && b !== undefined && constantTimeEqual(a, b);
}

/** Equal-length byte comparison that reads every byte whatever it finds. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= a[index]! ^ b[index]!;
  return difference === 0;
}

/** The headers that sign a request for `path`, to add to it as sent. */
export async function signRequest(
  secret: string,
  method: string,
  path: string,
  body: Uint8Array,
  nowMs: number,
): Promise<Record<string, string>> {
  const timestampMs = Math.floor(nowMs);
  const signature = toHex(await hmac(secret, await stringToSign(timestampMs, method, path, body)));
  return { [signatureHeaders.timestamp]: String(timestampMs), [signatureHeaders.signature]: signature };
}

function unauthorized(message: string): Unauthorized {
  return new Unauthorized(message, signatureScheme);
}

/**
 * Checks a request's signature headers against the request as received. Throws Unauthorized naming
 * what is wrong (missing header, malformed timestamp, timestamp outside the allowed skew, signature
 * that does not match); returns normally only for a valid signature.
 */
export async function verifyRequest(
  secret: string,
  method: string,
  path: string,
  body: Uint8Array,
  headers: { get(name: string): string | null },
  nowMs: number,
): Promise<void> {
  const timestampHeader = headers.get(signatureHeaders.timestamp);
  const signatureHeader = headers.get(signatureHeaders.signature);
  for (const [name, value] of [
    [signatureHeaders.timestamp, timestampHeader],
    [signatureHeaders.signature, signatureHeader],
  ] as const) {
    if (value === null || value === '') throw unauthorized(`missing request signature header '${name}'`);
  }
  // Digits only: Number() would also accept '1e12', ' 12', '0x1f' and make the signed text ambiguous.
  if (!/^\d{1,16}$/.test(timestampHeader!)) {
    throw unauthorized(`malformed '${signatureHeaders.timestamp}' header: expected milliseconds since the epoch as decimal digits`);
  }
  const timestampMs = Number(timestampHeader);
  const skewMs = nowMs - timestampMs;
  if (Math.abs(skewMs) > maxClockSkewMs) {
    const direction = skewMs > 0 ? 'expired' : 'in the future';
    throw unauthorized(
      `request signature ${direction}: timestamp is ${Math.round(Math.abs(skewMs) / 1000)} s from this server's clock (at most ${maxClockSkewMs / 1000} s allowed)`,
    );
  }
  const provided = signatureBytes(signatureHeader!.trim());
  const expected = await hmac(secret, await stringToSign(timestampMs, method, path, body));
  if (!provided || !constantTimeEqual(provided, expected)) {
    throw unauthorized('request signature does not match the request');
  }
}
