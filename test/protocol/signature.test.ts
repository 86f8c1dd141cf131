import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError, Unauthorized } from '../../protocol/errors.ts';
import { maxClockSkewMs, signatureHeaders, signRequest, stringToSign, verifyRequest } from '../../protocol/signature.ts';

const secret = 'test-signing-secret';
const path = '/v2/models/paddleocr-det/infer';
const body = new TextEncoder().encode('{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}');
const now = 1_800_000_000_000;

async function rejection(promise: Promise<void>): Promise<Unauthorized> {
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
    await expect(verifyRequest(secret, 'POST', path, body, headers, now)).resolves.toBeUndefined();
  });

  it('produces the documented scheme, checked against node:crypto', async () => {
    const signed = await signRequest(secret, 'post', path, body, now);
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const text = `${now}\nPOST\n${path}\n${bodyHash}`;
    expect(await stringToSign(now, 'post', path, body)).toBe(text);
    expect(signed).toEqual({
      [signatureHeaders.timestamp]: String(now),
      [signatureHeaders.signature]: createHmac('sha256', secret).update(text).digest('hex'),
    });
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

  it('rejects a different secret', async () => {
    const headers = new Headers(await signRequest('another-secret', 'POST', path, body, now));
    await rejection(verifyRequest(secret, 'POST', path, body, headers, now));
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
