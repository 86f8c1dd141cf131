// The nonces of signed requests seen within the signature's skew window, so that a request captured and
// sent again is refused (protocol/signature.ts). A nonce is kept until its request's timestamp is out of
// the window, after which the timestamp check refuses the request anyway; memory is bounded by
// `maxEntries`, and only requests whose signature verified are remembered, so only the edge can fill it.

import { maxClockSkewMs } from '../protocol/signature.ts';

export type NonceVerdict = { fresh: true } | { fresh: false; reason: 'replayed' } | { fresh: false; reason: 'full'; retryAfterMs: number };

export interface SeenNoncesOptions {
  /** Most nonces held at once; past it new requests are refused until the oldest expire. */
  maxEntries: number;
  now?: () => number;
}

export class SeenNonces {
  /** nonce → the time (ms) after which its request's timestamp no longer verifies; insertion order. */
  readonly #expiries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: SeenNoncesOptions) {
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#expiries.size;
  }

  /** Records a verified request's nonce; says whether it was new. */
  remember(nonce: string, timestampMs: number): NonceVerdict {
    const now = this.#now();
    this.#forgetExpired(now);
    const known = this.#expiries.get(nonce);
    if (known !== undefined && known >= now) return { fresh: false, reason: 'replayed' };
    if (this.#expiries.size >= this.#maxEntries) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const expiresAt of this.#expiries.values()) oldest = Math.min(oldest, expiresAt);
      return { fresh: false, reason: 'full', retryAfterMs: Math.max(1, oldest - now) };
    }
    this.#expiries.set(nonce, timestampMs + maxClockSkewMs);
    return { fresh: true };
  }

  #forgetExpired(now: number): void {
    // Entries arrive roughly in timestamp order, so expired ones gather at the front; one that expires
    // later than its successors only delays their removal until it goes, which costs memory, never safety.
    for (const [nonce, expiresAt] of this.#expiries) {
      if (expiresAt >= now) {
        if (this.#expiries.size < this.#maxEntries) return;
        // Full: sweep the whole map once, since out-of-order entries may be hiding expired ones.
        for (const [other, otherExpiry] of this.#expiries) if (otherExpiry < now) this.#expiries.delete(other);
        return;
      }
      this.#expiries.delete(nonce);
    }
  }
}
