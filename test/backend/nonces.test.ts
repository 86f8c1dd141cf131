import { describe, expect, it } from 'vitest';
import { SeenNonces } from '../../gpu-backend/nonces.ts';
import { maxClockSkewMs } from '../../protocol/signature.ts';

const start = 1_800_000_000_000;

function clock() {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('SeenNonces', () => {
  it('refuses a nonce seen within the signature window', () => {
    const time = clock();
    const nonces = new SeenNonces({ maxEntries: 1000, now: time.now });
    expect(nonces.remember('nonce-aaaaaaaaaaaa', start)).toEqual({ fresh: true });
    time.advance(maxClockSkewMs - 1);
    expect(nonces.remember('nonce-aaaaaaaaaaaa', start)).toEqual({ fresh: false, reason: 'replayed' });
    expect(nonces.remember('nonce-bbbbbbbbbbbb', start)).toEqual({ fresh: true });
  });

  it('keeps a nonce until its timestamp could no longer verify, then forgets it', () => {
    const time = clock();
    const nonces = new SeenNonces({ maxEntries: 1000, now: time.now });
    // Signed by a clock 5 minutes ahead: valid until 10 minutes from now on this one.
    nonces.remember('ahead-aaaaaaaaaaaa', start + maxClockSkewMs);
    nonces.remember('now-aaaaaaaaaaaaaa', start);
    time.advance(maxClockSkewMs + 1);
    expect(nonces.remember('ahead-aaaaaaaaaaaa', start + maxClockSkewMs)).toEqual({ fresh: false, reason: 'replayed' });
    // Expired, so not a replay (its timestamp would not verify any more either), even while still held.
    expect(nonces.remember('now-aaaaaaaaaaaaaa', start)).toEqual({ fresh: true });
    time.advance(maxClockSkewMs);
    nonces.remember('later-aaaaaaaaaaaa', start + 2 * maxClockSkewMs);
    expect(nonces.size).toBe(1);
  });

  it('holds at most maxEntries, refusing with the wait until the oldest expires, and takes more once they do', () => {
    const time = clock();
    const nonces = new SeenNonces({ maxEntries: 3, now: time.now });
    for (const n of ['a', 'b', 'c']) expect(nonces.remember(n.repeat(16), start).fresh).toBe(true);
    time.advance(60_000);
    expect(nonces.remember('d'.repeat(16), start + 60_000)).toEqual({
      fresh: false,
      reason: 'full',
      retryAfterMs: maxClockSkewMs - 60_000,
    });
    expect(nonces.size).toBe(3);
    time.advance(maxClockSkewMs);
    expect(nonces.remember('d'.repeat(16), start + maxClockSkewMs)).toEqual({ fresh: true });
    expect(nonces.size).toBe(1);
  });

  it('finds expired entries behind one that expires later when full', () => {
    const time = clock();
    const nonces = new SeenNonces({ maxEntries: 2, now: time.now });
    nonces.remember('late-aaaaaaaaaaaa', start + maxClockSkewMs);
    nonces.remember('early-aaaaaaaaaaa', start - maxClockSkewMs + 10);
    time.advance(11);
    expect(nonces.remember('new-aaaaaaaaaaaaa', start + 11)).toEqual({ fresh: true });
  });
});
