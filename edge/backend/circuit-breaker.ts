// Circuit breakers for the GPU backend, kept per isolate. One `CircuitBreaker`: after `failureThreshold` consecutive failures it
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

  /** A probe whose call was never made (another breaker refused it) leaves the state as it was. */
  releaseProbe(): void {
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

/**
 * What failed: `backend` when the backend itself could not be reached or something in front of it
 * answered (connection refused or reset, a proxy's 5xx page); `target` when the backend answered, in
 * its own words, that this model or task cannot serve (its JSON 5xx: a session that stopped, a full
 * queue); `timeout` when no answer came in time, which counts against the target (one model may hang
 * while the others serve) and says nothing of the backend.
 */
export type FailureKind = 'backend' | 'target' | 'timeout';

/**
 * A breaker for the backend as a whole and one per target (a model, or a task), so one model's faults
 * open only that model's breaker while a backend that is down opens the backend's, which refuses every
 * target. A call goes out when both admit it.
 */
export class BackendBreakers {
  readonly #options: CircuitBreakerOptions;
  readonly #backend: CircuitBreaker;
  readonly #targets = new Map<string, CircuitBreaker>();

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
    this.#backend = new CircuitBreaker(options);
  }

  #target(target: string): CircuitBreaker {
    let breaker = this.#targets.get(target);
    if (!breaker) {
      breaker = new CircuitBreaker(this.#options);
      this.#targets.set(target, breaker);
    }
    return breaker;
  }

  /** `open` when either the backend's or the target's breaker refuses calls now. */
  state(target: string): BreakerState {
    const backend = this.#backend.state;
    const own = this.#targets.get(target)?.state ?? 'closed';
    if (backend === 'open' || own === 'open') return 'open';
    return backend === 'half-open' || own === 'half-open' ? 'half-open' : 'closed';
  }

  /** Which breaker refused, with its wait, or admission (a probe when either breaker is probing). */
  admit(target: string): (Admission & { allowed: true }) | { allowed: false; retryAfterMs: number; by: 'backend' | 'target' } {
    const backend = this.#backend.admit();
    if (!backend.allowed) return { ...backend, by: 'backend' };
    const own = this.#target(target).admit();
    if (!own.allowed) {
      if (backend.probe) this.#backend.releaseProbe();
      return { ...own, by: 'target' };
    }
    return { allowed: true, probe: backend.probe || own.probe };
  }

  recordSuccess(target: string): void {
    this.#backend.recordSuccess();
    this.#target(target).recordSuccess();
  }

  recordFailure(target: string, kind: FailureKind): void {
    if (kind === 'backend') {
      this.#backend.recordFailure();
      // The call says nothing about the target: a probe of its own is given back, not decided.
      this.#target(target).releaseProbe();
      return;
    }
    // The backend answered: it is up. A timeout leaves a probe of the backend's undecided.
    if (kind === 'target') this.#backend.recordSuccess();
    else this.#backend.releaseProbe();
    this.#target(target).recordFailure();
  }
}
