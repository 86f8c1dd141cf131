// Refuses work once the caller's monthly budget (units or money, edge/ratelimit/plans.ts) is spent:
// 402 naming the budget, what was used and when it renews. The month's spend is read from the usage
// store (bounded by its timeout), at most once per `refreshMs` per key in this isolate; what this
// isolate serves in between is added from each answer's x-edgeinfer-units/-cost headers, so one
// isolate never overspends, and other isolates' work shows as soon as the store has it. Requests
// already in flight when the budget runs out are served (and billed).

import type { MiddlewareHandler } from 'hono';
import { type HttpError, Overloaded, PaymentRequired } from '../../protocol/errors.ts';
import { utcMonth } from '../../protocol/usage.ts';
import type { EdgeEnv } from '../context.ts';
import { costHeader, formatMicros, type UsageMeter, unitsHeader } from '../metering.ts';
import type { RateLimitFailureMode } from './rate-limit.ts';
import { type Budget, type Budgets, budgetFor } from '../ratelimit/plans.ts';
import type { MonthSpend } from '../usage/store.ts';

export interface BudgetOptions {
  budgets: Budgets;
  meter: UsageMeter;
  /** As for rate limits: an unreadable store serves (`open`) or refuses with 503 (`closed`). */
  failureMode: RateLimitFailureMode;
  refreshMs: number;
  log: (line: string) => void;
  now: () => number;
}

interface Known {
  month: string;
  readAtMs: number;
  /** The store's figure when last read. */
  stored: MonthSpend;
  /** The store's figure at the first read plus what this isolate served since. */
  local: MonthSpend;
}

const maxTracked = 10_000;

function spent(budget: Budget, spend: MonthSpend): boolean {
  return (
    (budget.units !== undefined && spend.units >= budget.units) ||
    (budget.costMicros !== undefined && spend.costMicros >= budget.costMicros)
  );
}

export function enforceBudget(options: BudgetOptions): MiddlewareHandler<EdgeEnv> {
  const known = new Map<string, Known>();

  async function spendOf(keyId: string): Promise<Known | undefined> {
    const now = options.now();
    const { month } = utcMonth(now);
    let entry = known.get(keyId);
    if (entry?.month !== month) entry = undefined;
    if (entry && now - entry.readAtMs < options.refreshMs) return entry;
    let stored: MonthSpend;
    try {
      stored = await options.meter.monthSpend(keyId);
    } catch (err) {
      options.log(
        JSON.stringify({ event: 'budget-unreadable', keyId, error: (err as HttpError).message, failureMode: options.failureMode }),
      );
      if (options.failureMode === 'closed') throw new Overloaded('budgets cannot be checked now; try again shortly', 5);
      return entry;
    }
    if (!entry && known.size >= maxTracked) known.clear();
    entry = entry ? { ...entry, stored, readAtMs: now } : { month, readAtMs: now, stored, local: { ...stored } };
    known.set(keyId, entry);
    return entry;
  }

  return async (c, next) => {
    const principal = c.get('principal');
    const budget = budgetFor(options.budgets, principal);
    if (!budget) return next();
    const entry = await spendOf(principal.id);
    if (entry) {
      const spend = {
        units: Math.max(entry.stored.units, entry.local.units),
        costMicros: Math.max(entry.stored.costMicros, entry.local.costMicros),
      };
      if (spent(budget, spend)) {
        const limit = [
          budget.units !== undefined && `${budget.units} units`,
          budget.costMicros !== undefined && `${formatMicros(budget.costMicros)} ${options.meter.currency}`,
        ]
          .filter(Boolean)
          .join(' or ');
        throw new PaymentRequired(
          `the monthly budget of ${limit} for ${principal.id} is spent (${spend.units} units, ${formatMicros(spend.costMicros)} ${options.meter.currency} in ${entry.month}); it renews on ${utcMonth(options.now()).nextMonthFirstDay}`,
        );
      }
    }
    await next();
    const units = Number(c.res.headers.get(unitsHeader) ?? 0);
    if (entry && units > 0) {
      entry.local.units += units;
      entry.local.costMicros += Math.round(Number.parseFloat(c.res.headers.get(costHeader) ?? '0') * 1_000_000);
    }
  };
}
