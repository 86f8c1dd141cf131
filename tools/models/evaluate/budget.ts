// The gate: a derived version's figures against its model's AccuracyBudget. Pure: tested directly.

import type { AccuracyBudget } from '../../../models/manifest.ts';
import type { Figures } from './figures.ts';

export interface Miss {
  /** The budget field missed, e.g. `minExactLineShare`. */
  budget: keyof AccuracyBudget;
  figure: string;
  value: number;
  limit: number;
  /** How far past the limit, in the figure's unit (always positive). */
  by: number;
}

export interface Verdict {
  passed: boolean;
  misses: Miss[];
}

/** `minExactLineShare` gates the figure `exactLineShare` from below, `maxBoundaryShiftMs` gates `boundaryShiftMs` from above. */
export function judge(figures: Figures, budget: AccuracyBudget): Verdict {
  const misses: Miss[] = [];
  // Reading fewer lines as printed than float32 is never within budget, stated or not.
  const gated: AccuracyBudget =
    figures.printedLinesLost !== undefined && budget.maxPrintedLinesLost === undefined ? { ...budget, maxPrintedLinesLost: 0 } : budget;
  for (const [key, limit] of Object.entries(gated) as [keyof AccuracyBudget, number | undefined][]) {
    if (limit === undefined) continue;
    const isMin = key.startsWith('min');
    const figure = key.slice(3, 4).toLowerCase() + key.slice(4);
    const value = figures[figure];
    // A budget the evaluation cannot measure is a configuration error, never a silent pass.
    if (value === undefined)
      throw new Error(
        `the budget sets ${key}, but this model's evaluation measures no '${figure}' (it measures ${Object.keys(figures).join(', ')})`,
      );
    const by = isMin ? limit - value : value - limit;
    if (by > 0) misses.push({ budget: key, figure, value, limit, by });
  }
  return { passed: misses.length === 0, misses };
}

export function describeMiss(miss: Miss): string {
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(4));
  return `${miss.figure} ${fmt(miss.value)} ${miss.budget.startsWith('min') ? '<' : '>'} ${fmt(miss.limit)} (${miss.budget}), missed by ${fmt(miss.by)}`;
}
