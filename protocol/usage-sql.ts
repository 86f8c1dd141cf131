// The usage store's layout in SQLite (Cloudflare D1: the embedded default that `npm start` runs under
// wrangler's local state with nothing else installed), shared by the edge, which writes and reads it,
// and `npm run usage`, which exports from it through `wrangler d1 execute`. One row per served request,
// its event id the primary key: `INSERT OR IGNORE` is what makes a queue's retry count nothing twice.

import type { UsageEvent, UsageRow } from './usage.ts';

export const createUsageTable = [
  `CREATE TABLE IF NOT EXISTS usage_events (
    event_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    day TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    model TEXT NOT NULL,
    tier TEXT NOT NULL,
    units INTEGER NOT NULL,
    cost_micros INTEGER NOT NULL,
    input_elements INTEGER NOT NULL,
    compute_us INTEGER NOT NULL,
    work_unit TEXT NOT NULL DEFAULT '',
    work_amount INTEGER NOT NULL DEFAULT 0
  )`,
  'CREATE INDEX IF NOT EXISTS usage_events_by_day ON usage_events (day, key_id)',
  'CREATE INDEX IF NOT EXISTS usage_events_by_key ON usage_events (key_id, day)',
] as const;

export const insertUsageEvent = `INSERT OR IGNORE INTO usage_events
  (event_id, key_id, day, at_ms, model, tier, units, cost_micros, input_elements, compute_us, work_unit, work_amount)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function insertUsageEventParams(event: UsageEvent, day: string): (string | number)[] {
  return [
    event.eventId,
    event.keyId,
    day,
    event.atMs,
    event.model,
    event.tier,
    event.units,
    event.costMicros,
    event.inputElements,
    event.computeUs,
    event.work?.unit ?? '',
    event.work?.amount ?? 0,
  ];
}

const rowColumns = `key_id, day, model, tier, work_unit, COUNT(*) AS requests, SUM(units) AS units, SUM(cost_micros) AS cost_micros,
  SUM(input_elements) AS input_elements, SUM(compute_us) AS compute_us, SUM(work_amount) AS work_amount`;
const rowGrouping = 'GROUP BY key_id, day, model, tier, work_unit';

/** Parameters: from, to, key id. */
export const selectKeyRows = `SELECT ${rowColumns} FROM usage_events WHERE key_id = ?3 AND day BETWEEN ?1 AND ?2 ${rowGrouping}`;
/** Parameters: from, to. */
export const selectAllRows = `SELECT ${rowColumns} FROM usage_events WHERE day BETWEEN ?1 AND ?2 ${rowGrouping}`;
/** Parameters: key id, the month's first day, the next month's first day. */
export const selectMonthSpend =
  'SELECT COALESCE(SUM(units), 0) AS units, COALESCE(SUM(cost_micros), 0) AS cost_micros FROM usage_events WHERE key_id = ?1 AND day >= ?2 AND day < ?3';

export interface SqlRow {
  key_id: string;
  day: string;
  model: string;
  tier: string;
  work_unit: string;
  requests: number;
  units: number;
  cost_micros: number;
  input_elements: number;
  compute_us: number;
  work_amount: number;
}

/** SQL rows (one per work unit too) as the store's rows per key, day, model and tier. */
export function usageRowsOfSql(sqlRows: readonly SqlRow[]): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const r of sqlRows) {
    const id = `${r.key_id}|${r.day}|${r.model}|${r.tier}`;
    let row = rows.get(id);
    if (!row) {
      row = {
        keyId: r.key_id,
        date: r.day,
        model: r.model,
        tier: r.tier,
        requests: 0,
        units: 0,
        costMicros: 0,
        inputElements: 0,
        computeUs: 0,
        work: {},
      };
      rows.set(id, row);
    }
    row.requests += Number(r.requests);
    row.units += Number(r.units);
    row.costMicros += Number(r.cost_micros);
    row.inputElements += Number(r.input_elements);
    row.computeUs += Number(r.compute_us);
    if (r.work_unit) row.work[r.work_unit] = (row.work[r.work_unit] ?? 0) + Number(r.work_amount);
  }
  return [...rows.values()];
}
