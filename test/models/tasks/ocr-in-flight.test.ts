import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapInFlight } from '../../../models/tasks/ocr/in-flight.ts';

/** Calls that settle only when the test says so, recording how many were unsettled at once. */
function controlledCalls() {
  const pending: { index: number; resolve: (value: string) => void; reject: (error: unknown) => void }[] = [];
  const started: number[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const work = (_item: string, index: number) =>
    new Promise<string>((resolve, reject) => {
      started.push(index);
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          inFlight--;
          fn(value);
        };
      pending.push({ index, resolve: settle(resolve), reject: settle(reject) });
    });
  return { pending, started, work, mostInFlight: () => mostInFlight };
}

/** Lets every promise callback queued so far run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('mapInFlight', () => {
  it('answers in the order of the items whatever order the calls settle in, never more than the limit in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (count, limit, picks) => {
          const calls = controlledCalls();
          const items = Array.from({ length: count }, (_, i) => `item ${i}`);
          const mapped = mapInFlight(items, limit, calls.work);
          await settled();
          let pick = 0;
          while (calls.pending.length > 0) {
            expect(calls.pending.length).toBeLessThanOrEqual(limit);
            const [call] = calls.pending.splice((picks[pick++] ?? 0) % calls.pending.length, 1);
            call!.resolve(`read ${call!.index}`);
            await settled();
          }
          expect(await mapped).toEqual(items.map((_, i) => `read ${i}`));
          expect(calls.started).toEqual(items.map((_, i) => i));
          expect(calls.mostInFlight()).toBe(Math.min(limit, count));
        },
      ),
    );
  });

  it('keeps two calls in flight when the limit is two: the next starts as soon as one settles', async () => {
    const calls = controlledCalls();
    const mapped = mapInFlight(['a', 'b', 'c'], 2, calls.work);
    await settled();
    expect(calls.started).toEqual([0, 1]);
    calls.pending.splice(1, 1)[0]!.resolve('b read');
    await settled();
    expect(calls.started).toEqual([0, 1, 2]);
    for (const call of calls.pending.splice(0)) call.resolve(`${'abc'[call.index]} read`);
    expect(await mapped).toEqual(['a read', 'b read', 'c read']);
  });

  it('throws the first error once the calls already started have settled, and starts no more', async () => {
    const calls = controlledCalls();
    let done = false;
    const mapped = mapInFlight(['a', 'b', 'c', 'd'], 2, calls.work).finally(() => {
      done = true;
    });
    await settled();
    calls.pending.shift()!.reject(new Error('rec refused line 0'));
    await settled();
    expect(done).toBe(false); // call 1 is still running
    expect(calls.started).toEqual([0, 1]);
    calls.pending.shift()!.resolve('b read');
    await expect(mapped).rejects.toThrow('rec refused line 0');
    expect(calls.started).toEqual([0, 1]);
  });
});
