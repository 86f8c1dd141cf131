// Usage as metered and billed: the event recorded once per served request (the metering queue's
// message, edge/metering.ts), the rows a usage store keeps per key, day, model and tier, and the answer
// of `GET /v1/usage` built from them, which the edge, the client and `npm run usage` share.
//
// Money is kept in whole micro-units of the configured currency (1 USD = 1 000 000), so sums are
// exact; it becomes a decimal number only in answers and exports.

import { z } from 'zod';

/** One served request, as the edge enqueues it and a usage store records it, at most once per `eventId`. */
export const UsageEvent = z.object({
  /** Minted by the edge for each served request (never the caller's x-request-id, which may repeat). */
  eventId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  keyId: z.string().min(1).max(200),
  atMs: z.number().int().nonnegative(),
  /** The model's name for `/v2`, `task:<name>` for a task route. */
  model: z.string().regex(/^[a-z0-9:][a-z0-9._:-]{0,127}$/),
  tier: z.string().regex(/^[a-z-]{1,32}$/),
  units: z.number().int().nonnegative(),
  costMicros: z.number().int().nonnegative(),
  inputElements: z.number().int().nonnegative(),
  /** The edge's wall time around the run: real for forwarded work, near 0 for the edge's own (see README). */
  computeUs: z.number().int().nonnegative(),
  /** A task's work, read from its files' headers: milliseconds of audio, or pixels. */
  work: z.object({ unit: z.string().regex(/^[a-z_]{1,32}$/), amount: z.number().int().nonnegative() }).optional(),
});
export type UsageEvent = z.infer<typeof UsageEvent>;

/** What a store keeps: the sums of one key's events of one UTC day, model and tier. */
export interface UsageRow {
  keyId: string;
  date: string;
  model: string;
  tier: string;
  requests: number;
  units: number;
  costMicros: number;
  inputElements: number;
  computeUs: number;
  work: Record<string, number>;
}

export const ModelUsage = z.object({
  requests: z.number().int().nonnegative(),
  units: z.number().int().nonnegative(),
  cost: z.number().nonnegative(),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

export const Usage = z.object({
  requests: z.number().int().nonnegative(),
  /** Units of work (models/units.ts): what the rate limit, the budget and the price count. */
  units: z.number().int().nonnegative().default(0),
  /** In `currency`: the sum of each request's units at its plan's price when it was served. */
  cost: z.number().nonnegative().default(0),
  inputElements: z.number().nonnegative(),
  computeMs: z.number().nonnegative(),
  requestsByTier: z.record(z.string(), z.number().int().nonnegative()),
  /** Task work by unit (`audio_ms`, `pixels`); empty on days without task requests (and from edges older than it). */
  work: z.record(z.string(), z.number().nonnegative()).default({}),
  /** Per model (`task:<name>` for task routes): requests, units and cost. */
  models: z.record(z.string(), ModelUsage).default({}),
});
export type Usage = z.infer<typeof Usage>;

export const DayUsage = Usage.extend({ date: z.string() });
export type DayUsage = z.infer<typeof DayUsage>;

export const UsageResponse = z.object({
  keyId: z.string(),
  from: z.string(),
  to: z.string(),
  /** ISO 4217 code of every `cost`. */
  currency: z.string().default('USD'),
  days: z.array(DayUsage),
  total: Usage,
});
export type UsageResponse = z.infer<typeof UsageResponse>;

/** One line of `npm run usage -- export`: a key's units and cost of one day and model. */
export interface ExportLine {
  keyId: string;
  date: string;
  model: string;
  requests: number;
  units: number;
  cost: number;
  currency: string;
}

export const microsPerCurrencyUnit = 1_000_000;
export const fromMicros = (micros: number) => micros / microsPerCurrencyUnit;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The UTC calendar month of `ms` as YYYY-MM, its first day, and the first day of the next. */
export function utcMonth(ms: number): { month: string; firstDay: string; nextMonthFirstDay: string } {
  const date = new Date(ms);
  const first = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const next = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return { month: utcDay(first).slice(0, 7), firstDay: utcDay(first), nextMonthFirstDay: utcDay(next) };
}

/** Every day from `from` to `to`, both included (YYYY-MM-DD). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000) days.push(utcDay(ms));
  return days;
}

interface Sums {
  requests: number;
  units: number;
  costMicros: number;
  inputElements: number;
  computeUs: number;
  requestsByTier: Record<string, number>;
  work: Record<string, number>;
  models: Record<string, { requests: number; units: number; costMicros: number }>;
}

const emptySums = (): Sums => ({
  requests: 0,
  units: 0,
  costMicros: 0,
  inputElements: 0,
  computeUs: 0,
  requestsByTier: {},
  work: {},
  models: {},
});

function add(sums: Sums, row: UsageRow): void {
  sums.requests += row.requests;
  sums.units += row.units;
  sums.costMicros += row.costMicros;
  sums.inputElements += row.inputElements;
  sums.computeUs += row.computeUs;
  sums.requestsByTier[row.tier] = (sums.requestsByTier[row.tier] ?? 0) + row.requests;
  for (const [unit, amount] of Object.entries(row.work)) sums.work[unit] = (sums.work[unit] ?? 0) + amount;
  const model = sums.models[row.model] ?? { requests: 0, units: 0, costMicros: 0 };
  sums.models[row.model] = model;
  model.requests += row.requests;
  model.units += row.units;
  model.costMicros += row.costMicros;
}

function usageOf(sums: Sums): Usage {
  return {
    requests: sums.requests,
    units: sums.units,
    cost: fromMicros(sums.costMicros),
    inputElements: sums.inputElements,
    computeMs: sums.computeUs / 1000,
    requestsByTier: sums.requestsByTier,
    work: sums.work,
    models: Object.fromEntries(
      Object.entries(sums.models).map(([name, m]) => [name, { requests: m.requests, units: m.units, cost: fromMicros(m.costMicros) }]),
    ),
  };
}

/** One key's rows as `/v1/usage` answers them: every day of the range (empty ones included) and the total. */
export function summarizeUsage(rows: readonly UsageRow[], from: string, to: string): { days: DayUsage[]; total: Usage } {
  const byDay = new Map(daysBetween(from, to).map((date) => [date, emptySums()]));
  const total = emptySums();
  for (const row of rows) {
    const day = byDay.get(row.date);
    if (!day) continue;
    add(day, row);
    add(total, row);
  }
  return { days: [...byDay].map(([date, sums]) => ({ date, ...usageOf(sums) })), total: usageOf(total) };
}

/** Rows summed per key, day and model (tiers together), in that order: the export's lines. */
export function exportLines(rows: readonly UsageRow[], currency: string): ExportLine[] {
  const lines = new Map<string, { keyId: string; date: string; model: string; requests: number; units: number; costMicros: number }>();
  for (const row of rows) {
    const id = `${row.keyId}\u0000${row.date}\u0000${row.model}`;
    const line = lines.get(id) ?? { keyId: row.keyId, date: row.date, model: row.model, requests: 0, units: 0, costMicros: 0 };
    line.requests += row.requests;
    line.units += row.units;
    line.costMicros += row.costMicros;
    lines.set(id, line);
  }
  return [...lines.values()]
    .sort((a, b) => a.keyId.localeCompare(b.keyId) || a.date.localeCompare(b.date) || a.model.localeCompare(b.model))
    .map(({ costMicros, ...line }) => ({ ...line, cost: fromMicros(costMicros), currency }));
}
