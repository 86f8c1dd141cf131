// The edge signs every request it forwards to the GPU backend, so the backend answers only the edge
// (which has already authenticated, rate-limited and validated the caller). Both sides use this file.
//
// Scheme (HMAC-SHA256 over a shared secret, Web Crypto only, so it runs in Workers and in Node):
//
//   string to sign = `edgeinfer-signature-v2\n${timestampMs}\n${keyId}\n${nonce}\n${METHOD}\n${path}\n${bodyLength}\n${bodySha256}`
//   x-edgeinfer-timestamp:   timestampMs (decimal milliseconds since the Unix epoch)
//   x-edgeinfer-key-id:      which secret signed (16 hex digits derived from it: `signingKeyId`)
//   x-edgeinfer-nonce:       16-64 characters of [A-Za-z0-9_-], new for every request (a random UUID)
//   x-edgeinfer-body-length: the body's length in bytes, decimal
//   x-edgeinfer-body-sha256: the body's SHA-256, 64 lower-case hex digits
//   x-edgeinfer-signature:   hex(HMAC-SHA256(secret, string to sign))
//
// - Everything signed travels in headers, so the receiver checks the signature *before it reads any of
//   the body* (`verifySignedHead`): an unsigned or forged request is refused without costing the body's
//   memory, and a signed one is read only up to its signed length, then checked against its signed hash
//   (`verifySignedBody`), as AWS SigV4 does with x-amz-content-sha256.
// - METHOD is upper-cased; `path` is the URL's pathname and query string as sent (`/v2/models/x/infer`,
//   `/v1/vad?threshold=0.6`: a task's options ride in the query).
// - The timestamp binds the signature to a moment: the verifier accepts it within ±`maxClockSkewMs`
//   of its own clock (boundary included). Within that window the verifier remembers each nonce, so a
//   request replayed as it was captured is refused (gpu-backend/nonces.ts).
// - The key id lets the receiver hold more than one secret while one replaces another; it is derived
//   from the secret, so the two sides cannot disagree about it.
// - The signature is compared as bytes of equal length with no early exit, so response timing says
//   nothing about how much of a guess was right.

import { HttpError, Unauthorized } from './errors.ts';

export const signatureHeaders = {
  timestamp: 'x-edgeinfer-timestamp',
  keyId: 'x-edgeinfer-key-id',
  nonce: 'x-edgeinfer-nonce',
  bodyLength: 'x-edgeinfer-body-length',
  bodySha256: 'x-edgeinfer-body-sha256',
  signature: 'x-edgeinfer-signature',
} as const;

export const maxClockSkewMs = 5 * 60 * 1000;

/** The scheme named in the 401's WWW-Authenticate header. */
export const signatureScheme = 'EdgeInfer-HMAC-SHA256';

const schemeVersion = 'edgeinfer-signature-v2';
const encoder = new TextEncoder();
const hexDigits = /^[0-9a-f]+$/;
const noncePattern = /^[A-Za-z0-9_-]{16,64}$/;

/** A request's signed facts, read from its headers and checked before its body is read. */
export interface SignedHead {
  timestampMs: number;
  keyId: string;
  nonce: string;
  method: string;
  path: string;
  bodyLength: number;
  bodySha256: string;
}

/** A signed request was seen before within the skew window: someone is replaying it. */
export class ReplayedRequest extends HttpError {
  constructor(nonce: string) {
    super(409, `request signature was already used (nonce '${nonce}'): a replayed request is refused; sign each request anew`);
  }
}

// Importing a key costs more than the HMAC itself; a tier has one or two secrets, so a small cache suffices.
const keyCache = new Map<string, Promise<CryptoKey>>();
const keyIdCache = new Map<string, Promise<string>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    if (keyCache.size > 8) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Hex digits to bytes, or undefined unless `hex` is exactly 64 hex digits. */
function signatureBytes(hex: string): Uint8Array | undefined {
  if (hex.length !== 64 || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

/** SHA-256 of `bytes` as 64 lower-case hex digits. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/** The id a secret signs under: public, and says nothing usable about the secret (a truncated hash). */
export function signingKeyId(secret: string): Promise<string> {
  let id = keyIdCache.get(secret);
  if (!id) {
    id = sha256Hex(encoder.encode(`edgeinfer-signing-key-id\n${secret}`)).then((hex) => hex.slice(0, 16));
    if (keyIdCache.size > 8) keyIdCache.clear();
    keyIdCache.set(secret, id);
  }
  return id;
}

/** The exact text both sides sign; exported so other implementations can be checked against it. */
export function stringToSign(head: SignedHead): string {
  const { timestampMs, keyId, nonce, method, path, bodyLength, bodySha256 } = head;
  return `${schemeVersion}\n${timestampMs}\n${keyId}\n${nonce}\n${method.toUpperCase()}\n${path}\n${bodyLength}\n${bodySha256}`;
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

/** The headers that sign a request for `path` with this body, to add to it as sent. */
export async function signRequest(
  secret: string,
  method: string,
  path: string,
  body: Uint8Array,
  nowMs: number,
  nonce: string = crypto.randomUUID(),
): Promise<Record<string, string>> {
  const head: SignedHead = {
    timestampMs: Math.floor(nowMs),
    keyId: await signingKeyId(secret),
    nonce,
    method,
    path,
    bodyLength: body.byteLength,
    bodySha256: await sha256Hex(body),
  };
  const signature = toHex(await hmac(secret, stringToSign(head)));
  return {
    [signatureHeaders.timestamp]: String(head.timestampMs),
    [signatureHeaders.keyId]: head.keyId,
    [signatureHeaders.nonce]: head.nonce,
    [signatureHeaders.bodyLength]: String(head.bodyLength),
    [signatureHeaders.bodySha256]: head.bodySha256,
    [signatureHeaders.signature]: signature,
  };
}

function unauthorized(message: string): Unauthorized {
  return new Unauthorized(message, signatureScheme);
}

function required(headers: { get(name: string): string | null }, name: string): string {
  const value = headers.get(name);
  if (value === null || value === '') throw unauthorized(`missing request signature header '${name}'`);
  return value;
}

/**
 * Checks a request's signature from its headers alone, before any of its body is read. Throws
 * Unauthorized naming what is wrong (missing or malformed header, unknown key id, timestamp outside
 * the allowed skew, signature that does not match); returns the signed facts for a valid signature.
 * The caller then reads at most `bodyLength` bytes and hands them to `verifySignedBody`.
 */
export async function verifySignedHead(
  secrets: string | readonly string[],
  method: string,
  path: string,
  headers: { get(name: string): string | null },
  nowMs: number,
): Promise<SignedHead> {
  const timestampHeader = required(headers, signatureHeaders.timestamp);
  const keyId = required(headers, signatureHeaders.keyId);
  const nonce = required(headers, signatureHeaders.nonce);
  const lengthHeader = required(headers, signatureHeaders.bodyLength);
  const bodySha256 = required(headers, signatureHeaders.bodySha256);
  const signatureHeader = required(headers, signatureHeaders.signature);

  // Digits only: Number() would also accept '1e12', ' 12', '0x1f' and make the signed text ambiguous.
  if (!/^\d{1,16}$/.test(timestampHeader)) {
    throw unauthorized(`malformed '${signatureHeaders.timestamp}' header: expected milliseconds since the epoch as decimal digits`);
  }
  if (!/^\d{1,15}$/.test(lengthHeader)) {
    throw unauthorized(`malformed '${signatureHeaders.bodyLength}' header: expected the body's length in bytes as decimal digits`);
  }
  if (bodySha256.length !== 64 || !hexDigits.test(bodySha256)) {
    throw unauthorized(`malformed '${signatureHeaders.bodySha256}' header: expected 64 lower-case hex digits`);
  }
  if (!/^[0-9a-f]{16}$/.test(keyId)) {
    throw unauthorized(`malformed '${signatureHeaders.keyId}' header: expected 16 lower-case hex digits`);
  }
  if (!noncePattern.test(nonce)) {
    throw unauthorized(`malformed '${signatureHeaders.nonce}' header: expected 16 to 64 characters of A-Z, a-z, 0-9, '_' and '-'`);
  }
  const timestampMs = Number(timestampHeader);
  const skewMs = nowMs - timestampMs;
  if (Math.abs(skewMs) > maxClockSkewMs) {
    const direction = skewMs > 0 ? 'expired' : 'in the future';
    throw unauthorized(
      `request signature ${direction}: timestamp is ${Math.round(Math.abs(skewMs) / 1000)} s from this server's clock (at most ${maxClockSkewMs / 1000} s allowed)`,
    );
  }
  let secret: string | undefined;
  for (const candidate of typeof secrets === 'string' ? [secrets] : secrets) {
    if ((await signingKeyId(candidate)) === keyId) secret = candidate;
  }
  if (secret === undefined) throw unauthorized(`request signed with unknown key id '${keyId}': not a secret this server holds`);

  const head: SignedHead = { timestampMs, keyId, nonce, method, path, bodyLength: Number(lengthHeader), bodySha256 };
  const provided = signatureBytes(signatureHeader.trim());
  const expected = await hmac(secret, stringToSign(head));
  if (!provided || !constantTimeEqual(provided, expected)) {
    throw unauthorized('request signature does not match the request');
  }
  return head;
}

/** Checks a body read under a verified head: its length and hash are the signed ones. */
export async function verifySignedBody(head: SignedHead, body: Uint8Array): Promise<void> {
  if (body.byteLength !== head.bodyLength) {
    throw unauthorized(`request body has ${body.byteLength} bytes; its signature says ${head.bodyLength}`);
  }
  if ((await sha256Hex(body)) !== head.bodySha256) throw unauthorized('request body does not match its signed hash');
}

/** Both checks at once, for a request whose body is already at hand (no replay check: see gpu-backend/nonces.ts). */
export async function verifyRequest(
  secrets: string | readonly string[],
  method: string,
  path: string,
  body: Uint8Array,
  headers: { get(name: string): string | null },
  nowMs: number,
): Promise<SignedHead> {
  const head = await verifySignedHead(secrets, method, path, headers, nowMs);
  await verifySignedBody(head, body);
  return head;
}
