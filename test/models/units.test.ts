import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countUnits, type UnitsSpec } from '../../models/units.ts';

const perThousand: UnitsSpec = { work: 'input_elements', workPerUnit: 1000, gpuSessionMsPerUnit: 10 };

describe('countUnits', () => {
  it('charges one unit per started workPerUnit of each piece of work, at least one each', () => {
    expect(countUnits(perThousand, [833])).toBe(1);
    expect(countUnits(perThousand, [1000])).toBe(1);
    expect(countUnits(perThousand, [1001])).toBe(2);
    expect(countUnits(perThousand, [8 * 832 + 1])).toBe(7);
    expect(countUnits(perThousand, [0, 10, 2500])).toBe(1 + 1 + 3);
  });

  it("charges a GPU run by its session time when that is more than its work's units, never less", () => {
    expect(countUnits(perThousand, [833], 4)).toBe(1);
    expect(countUnits(perThousand, [833], 95)).toBe(10);
    expect(countUnits({ work: 'pixels', workPerUnit: 1e6 }, [2e6], 10_000)).toBe(2);
    fc.assert(
      fc.property(fc.array(fc.nat(1e7), { minLength: 1, maxLength: 8 }), fc.double({ min: 0, max: 1e6, noNaN: true }), (work, ms) => {
        const units = countUnits(perThousand, work, ms);
        return Number.isInteger(units) && units >= countUnits(perThousand, work) && units >= work.length;
      }),
    );
  });
});
