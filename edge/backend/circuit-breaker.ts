// A circuit breaker per backend, kept per isolate: after `failureThreshold` consecutive failures it
// opens and refuses calls for `coolDownMs`, then lets exactly one probe through; the probe's outcome
// closes it again or restarts the cool-down. A slow answer that arrives is a success: only failures
// (connection refused, 503, a timeout) count, so a backend scaling up from zero trips nothing by
// being slow within the request timeout.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  coolDownMs: number;
  now: () => number;
}

export type Admission = { allowed: true; probe: boolean } | { allowed: false; retryAfterMs: number };

export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  #consecutiveFailures = 0;
  #openedAtMs: number | undefined;
  #probeInFlight = false;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
  }

  get state(): BreakerState {
    if (this.#openedAtMs === undefined) return 'closed';
    return this.#options.now() - this.#openedAtMs >= this.#options.coolDownMs ? 'half-open' : 'open';
  }

  /** Whether a call may go out now. In half-open, only the first caller gets through, as the probe. */
  admit(): Admission {
    const state = this.state;
    if (state === 'closed') return { allowed: true, probe: false };
    if (state === 'half-open' && !this.#probeInFlight) {
      this.#probeInFlight = true;
      return { allowed: true, probe: true };
    }
    const elapsed = this.#options.now() - this.#openedAtMs!;
    return { allowed: false, retryAfterMs: Math.max(this.#options.coolDownMs - elapsed, 1000) };
  }

  recordSuccess(): void {
    this.#consecutiveFailures = 0;
    this.#openedAtMs = undefined;
    this.#probeInFlight = false;
  }

  recordFailure(): void {
    this.#consecutiveFailures++;
    if (this.#probeInFlight || this.#consecutiveFailures >= this.#options.failureThreshold) {
      this.#openedAtMs = this.#options.now();
    }
    this.#probeInFlight = false;
  }
}
