import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../edge/backend/circuit-breaker.ts';

function breaker(failureThreshold = 3, coolDownMs = 10_000) {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold, coolDownMs, now: () => now });
  return { b, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('stays closed through fewer consecutive failures than the threshold', () => {
    const { b } = breaker(3);
    b.recordFailure();
    b.recordFailure();
    expect(b.state).toBe('closed');
    expect(b.admit()).toEqual({ allowed: true, probe: false });
  });

  it('a success in between resets the count: only consecutive failures open it', () => {
    const { b } = breaker(3);
    b.recordFailure();
    b.recordFailure();
    b.recordSuccess();
    b.recordFailure();
    b.recordFailure();
    expect(b.state).toBe('closed');
  });

  it('opens at the threshold and refuses calls with the time left until the probe', () => {
    const { b, advance } = breaker(3, 10_000);
    for (let i = 0; i < 3; i++) b.recordFailure();
    expect(b.state).toBe('open');
    advance(4_000);
    expect(b.admit()).toEqual({ allowed: false, retryAfterMs: 6_000 });
  });

  it('after the cool-down lets exactly one probe through', () => {
    const { b, advance } = breaker(1, 1_000);
    b.recordFailure();
    advance(1_000);
    expect(b.state).toBe('half-open');
    expect(b.admit()).toEqual({ allowed: true, probe: true });
    expect(b.admit().allowed).toBe(false);
  });

  it('closes when the probe succeeds, and reopens for a full cool-down when it fails', () => {
    const { b, advance } = breaker(2, 1_000);
    b.recordFailure();
    b.recordFailure();
    advance(1_000);
    b.admit();
    b.recordFailure();
    expect(b.state).toBe('open');
    advance(999);
    expect(b.admit().allowed).toBe(false);
    advance(1);
    expect(b.admit()).toEqual({ allowed: true, probe: true });
    b.recordSuccess();
    expect(b.state).toBe('closed');
    expect(b.admit()).toEqual({ allowed: true, probe: false });
  });

  it('refuses calls within a cool-down of the threshold-th consecutive failure, whatever came before', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('fail'), fc.constant('ok'), fc.integer({ min: 0, max: 3_000 })), { maxLength: 60 }),
        (events) => {
          const { b, advance } = breaker(3, 1_000);
          let now = 0;
          let consecutive = 0;
          let lastFailureAt = -Infinity;
          for (const event of events) {
            if (event === 'fail') {
              b.recordFailure();
              consecutive++;
              lastFailureAt = now;
            } else if (event === 'ok') {
              b.recordSuccess();
              consecutive = 0;
            } else {
              advance(event);
              now += event;
            }
            if (consecutive >= 3 && now - lastFailureAt < 1_000) expect(b.admit().allowed).toBe(false);
          }
        },
      ),
    );
  });
});
