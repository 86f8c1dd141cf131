import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError, Unauthorized } from '../../protocol/errors.ts';
import {
  maxClockSkewMs,
  signatureHeaders,
  signingKeyId,
  signRequest,
  stringToSign,
  verifyRequest,
  verifySignedBody,
  verifySignedHead,
} from '../../protocol/signature.ts';

const secret = 'test-signing-secret';
const path = '/v2/models/paddleocr-det/infer';
const body = new TextEncoder().encode('{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}');
const now = 1_800_000_000_000;

async function rejection(promise: Promise<unknown>): Promise<Unauthorized> {
  const err = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(err).toBeInstanceOf(Unauthorized);
  expect((err as Unauthorized).status).toBe(401);
  return err as Unauthorized;
}

describe('signRequest / verifyRequest', () => {
  it('accepts a request exactly as it was signed', async () => {
    const headers = new Headers(await signRequest(secret, 'POST', path, body, now));
    await expect(verifyRequest(secret, 'POST', path, body, headers, now)).resolves.toMatchObject({ bodyLength: body.length });
  });

  it('produces the documented scheme, checked against node:crypto', async () => {
    const nonce = 'n0nce-0f-the-test';
    const signed = await signRequest(secret, 'post', path, body, now, nonce);
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const keyId = createHash('sha256').update(`edgeinfer-signing-key-id\n${secret}`).digest('hex').slice(0, 16);
    expect(await signingKeyId(secret)).toBe(keyId);
    const text = `edgeinfer-signature-v2\n${now}\n${keyId}\n${nonce}\nPOST\n${path}\n${body.length}\n${bodyHash}`;
    expect(stringToSign({ timestampMs: now, keyId, nonce, method: 'post', path, bodyLength: body.length, bodySha256: bodyHash })).toBe(
      text,
    );
    expect(signed).toEqual({
      [signatureHeaders.timestamp]: String(now),
      [signatureHeaders.keyId]: keyId,
      [signatureHeaders.nonce]: nonce,
      [signatureHeaders.bodyLength]: String(body.length),
      [signatureHeaders.bodySha256]: bodyHash,
      [signatureHeaders.signature]: createHmac('sha256', secret).update(text).digest('hex'),
    });
  });

  it('signs every request with a new nonce', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 50; i++) nonces.add((await signRequest(secret, 'POST', path, body, now))[signatureHeaders.nonce]!);
    expect(nonces.size).toBe(50);
  });

  it('verifies the head without the body, and returns the signed length and hash to read the body by', async () => {
    const headers = new Headers(await signRequest(secret, 'POST', path, body, now));
    const head = await verifySignedHead(secret, 'POST', path, headers, now);
    expect(head).toMatchObject({ bodyLength: body.length, bodySha256: createHash('sha256').update(body).digest('hex') });
    await verifySignedBody(head, body);
    const longer = await rejection(verifySignedBody(head, new Uint8Array([...body, 32])));
    expect(longer.message).toMatch(/signature says/);
  });

  it('rejects a declared length or hash changed after signing, before any body is read', async () => {
    const signed = await signRequest(secret, 'POST', path, body, now);
    for (const [name, value] of [
      [signatureHeaders.bodyLength, String(body.length + 1)],
      [signatureHeaders.bodySha256, createHash('sha256').update('other').digest('hex')],
    ] as const) {
      const err = await rejection(verifySignedHead(secret, 'POST', path, new Headers({ ...signed, [name]: value }), now));
      expect(err.message).toMatch(/does not match/);
    }
  });

  it('accepts any of several secrets by key id, and names an unknown key id', async () => {
    const previous = 'the-previous-signing-secret-of-32-chars';
    const headers = new Headers(await signRequest(previous, 'POST', path, body, now));
    await verifyRequest([secret, previous], 'POST', path, body, headers, now);
    const err = await rejection(verifyRequest([secret], 'POST', path, body, headers, now));
    expect(err.message).toMatch(/unknown key id/);
  });

  it('signs an empty body as the hash of zero bytes', async () => {
    const empty = new Uint8Array(0);
    const headers = new Headers(await signRequest(secret, 'GET', '/v2/models/x', empty, now));
    await verifyRequest(secret, 'GET', '/v2/models/x', empty, headers, now);
  });

  it('rejects a tampered body', async () => {
    const headers = new Headers(await signRequest(secret, 'POST', path, body, now));
    const tampered = body.slice();
    tampered[tampered.length - 3]! ^= 1;
    const err = await rejection(verifyRequest(secret, 'POST', path, tampered, headers, now));
    expect(err.message).toMatch(/does not match/);
  });

  it('rejects a body cut short or extended', async () => {
    const headers = new Headers(await signRequest(secret, 'POST', path, body, now));
    await rejection(verifyRequest(secret, 'POST', path, body.subarray(0, body.length - 1), headers, now));
    await rejection(verifyRequest(secret, 'POST', path, new Uint8Array([...body, 32]), headers, now));
  });

  it('rejects a different path or method', async () => {
    const headers = new Headers(await signRequest(secret, 'POST', path, body, now));
    await rejection(verifyRequest(secret, 'POST', '/v2/models/paddleocr-rec/infer', body, headers, now));
    await rejection(verifyRequest(secret, 'PUT', path, body, headers, now));
  });

  it('rejects a different secret, even when it claims the right key id', async () => {
    const signed = await signRequest('another-secret', 'POST', path, body, now);
    await rejection(verifyRequest(secret, 'POST', path, body, new Headers(signed), now));
    const claimed = new Headers({ ...signed, [signatureHeaders.keyId]: await signingKeyId(secret) });
    const err = await rejection(verifyRequest(secret, 'POST', path, body, claimed, now));
    expect(err.message).toMatch(/does not match/);
  });

  it('rejects a timestamp changed after signing', async () => {
    const headers = new Headers(await signRequest(secret, 'POST', path, body, now));
    headers.set(signatureHeaders.timestamp, String(now + 1));
    const err = await rejection(verifyRequest(secret, 'POST', path, body, headers, now));
    expect(err.message).toMatch(/does not match/);
  });

  it('rejects a signature with one hex digit changed, or of the wrong length', async () => {
    const signed = await signRequest(secret, 'POST', path, body, now);
    const signature = signed[signatureHeaders.signature]!;
    const flipped = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
    for (const bad of [flipped, signature.slice(0, -2), `${signature}00`, 'z'.repeat(64)]) {
      const headers = new Headers({ ...signed, [signatureHeaders.signature]: bad });
      await rejection(verifyRequest(secret, 'POST', path, body, headers, now));
    }
  });

  it('accepts a clock skew of exactly five minutes either way and rejects one millisecond more', async () => {
    const headers = new Headers(await signRequest(secret, 'POST', path, body, now));
    await verifyRequest(secret, 'POST', path, body, headers, now + maxClockSkewMs);
    await verifyRequest(secret, 'POST', path, body, headers, now - maxClockSkewMs);
    const expired = await rejection(verifyRequest(secret, 'POST', path, body, headers, now + maxClockSkewMs + 1));
    expect(expired.message).toMatch(/expired/);
    const future = await rejection(verifyRequest(secret, 'POST', path, body, headers, now - maxClockSkewMs - 1));
    expect(future.message).toMatch(/in the future/);
  });

  it('names a missing header', async () => {
    const signed = await signRequest(secret, 'POST', path, body, now);
    for (const name of Object.values(signatureHeaders)) {
      const headers = new Headers(signed);
      headers.delete(name);
      const err = await rejection(verifyRequest(secret, 'POST', path, body, headers, now));
      expect(err.message).toContain(`missing request signature header '${name}'`);
    }
  });

  it('rejects a malformed nonce, key id, length or hash', async () => {
    const signed = await signRequest(secret, 'POST', path, body, now);
    for (const [name, bad] of [
      [signatureHeaders.nonce, 'short'],
      [signatureHeaders.nonce, 'x'.repeat(65)],
      [signatureHeaders.nonce, 'has spaces in it, sixteen+'],
      [signatureHeaders.keyId, 'ABCDEF0123456789'],
      [signatureHeaders.bodyLength, '-1'],
      [signatureHeaders.bodyLength, '1e3'],
      [signatureHeaders.bodyLength, '9'.repeat(16)],
      [signatureHeaders.bodySha256, 'A'.repeat(64)],
    ] as const) {
      const err = await rejection(verifySignedHead(secret, 'POST', path, new Headers({ ...signed, [name]: bad }), now));
      expect(err.message, `${name}: ${bad}`).toMatch(new RegExp(`malformed '${name}'`));
    }
  });

  it('rejects a malformed timestamp', async () => {
    const signed = await signRequest(secret, 'POST', path, body, now);
    for (const bad of ['soon', '1.8e12', '-1', '0x1a', `${now}.5`, '9'.repeat(20)]) {
      const headers = new Headers({ ...signed, [signatureHeaders.timestamp]: bad });
      const err = await rejection(verifyRequest(secret, 'POST', path, body, headers, now));
      expect(err.message).toMatch(/malformed/);
    }
  });

  it('answers 401 with the signature scheme as its challenge', async () => {
    const err = await rejection(verifyRequest(secret, 'POST', path, body, new Headers(), now));
    expect(err.headers['WWW-Authenticate']).toBe('EdgeInfer-HMAC-SHA256');
  });

  it('round-trips any method, path and body, and rejects any other body (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT'),
        fc.webPath(),
        fc.uint8Array({ maxLength: 256 }),
        fc.uint8Array({ maxLength: 256 }),
        async (method, anyPath, signedBody, otherBody) => {
          const headers = new Headers(await signRequest(secret, method, anyPath, signedBody, now));
          await verifyRequest(secret, method, anyPath, signedBody, headers, now);
          const same = signedBody.length === otherBody.length && signedBody.every((byte, index) => byte === otherBody[index]);
          if (!same) await expect(verifyRequest(secret, method, anyPath, otherBody, headers, now)).rejects.toBeInstanceOf(HttpError);
        },
      ),
      { numRuns: 100 },
    );
  });
});
