import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackendBreakers, CircuitBreaker } from '../../edge/backend/circuit-breaker.ts';

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

function breakers(failureThreshold = 2, coolDownMs = 1_000) {
  let now = 0;
  const b = new BackendBreakers({ failureThreshold, coolDownMs, now: () => now });
  return { b, advance: (ms: number) => (now += ms) };
}

describe('breakers per model', () => {
  it("opens only the failing model's breaker when the backend answers that the model cannot serve", () => {
    const { b } = breakers(2);
    b.recordFailure('paddleocr-rec', 'target');
    b.recordFailure('paddleocr-rec', 'target');
    expect(b.state('paddleocr-rec')).toBe('open');
    expect(b.admit('paddleocr-rec')).toMatchObject({ allowed: false, by: 'target' });
    expect(b.state('paddleocr-det')).toBe('closed');
    expect(b.admit('paddleocr-det')).toEqual({ allowed: true, probe: false });
  });

  it('counts a timeout against the model that did not answer, and not against the others', () => {
    const { b } = breakers(1);
    b.recordFailure('paddleocr-rec', 'timeout');
    expect(b.state('paddleocr-rec')).toBe('open');
    expect(b.state('paddleocr-det')).toBe('closed');
  });

  it('opens for every model when the backend itself cannot be reached, whichever model the failures came from', () => {
    const { b } = breakers(2);
    b.recordFailure('paddleocr-rec', 'backend');
    b.recordFailure('task:ocr', 'backend');
    for (const target of ['paddleocr-rec', 'paddleocr-det', 'task:ocr', 'task:vad']) {
      expect(b.state(target)).toBe('open');
      expect(b.admit(target)).toMatchObject({ allowed: false, by: 'backend' });
    }
  });

  it("a healthy model's answers never close a broken model's breaker", () => {
    const { b } = breakers(2);
    b.recordFailure('paddleocr-rec', 'target');
    b.recordFailure('paddleocr-rec', 'target');
    for (let i = 0; i < 10; i++) b.recordSuccess('paddleocr-det');
    expect(b.state('paddleocr-rec')).toBe('open');
  });

  it("a model's answer, even a failing one, proves the backend up: its breaker closes for the others", () => {
    const { b, advance } = breakers(1, 1_000);
    b.recordFailure('paddleocr-det', 'backend');
    expect(b.state('paddleocr-rec')).toBe('open');
    advance(1_000);
    expect(b.admit('paddleocr-rec')).toEqual({ allowed: true, probe: true });
    b.recordFailure('paddleocr-rec', 'target');
    expect(b.state('paddleocr-det')).toBe('closed');
    expect(b.state('paddleocr-rec')).toBe('open');
  });

  it("gives the backend's probe back when the model's own breaker refuses the call, so the next model can probe", () => {
    const { b, advance } = breakers(1, 1_000);
    b.recordFailure('paddleocr-det', 'backend');
    advance(500);
    b.recordFailure('paddleocr-rec', 'timeout'); // rec's breaker opens half a cool-down after the backend's
    advance(500);
    expect(b.admit('paddleocr-rec')).toMatchObject({ allowed: false, by: 'target' });
    expect(b.admit('paddleocr-det')).toEqual({ allowed: true, probe: true });
  });
});
