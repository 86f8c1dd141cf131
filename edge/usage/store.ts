// Where usage is kept, behind one interface, so everything above it (the queue consumer, /v1/usage,
// budgets) is one code path: Upstash Redis in production, D1 (SQLite in wrangler's local state) when
// no Upstash is configured, which is what `npm start` runs with nothing else installed.

import type { Redis } from '@upstash/redis/cloudflare';
import { monthSpendInRedis, readRowsFromRedis, recordEventsInRedis } from '../../protocol/usage-redis.ts';
import {
  createUsageTable,
  insertUsageEvent,
  insertUsageEventParams,
  type SqlRow,
  selectAllRows,
  selectKeyRows,
  selectMonthSpend,
  usageRowsOfSql,
} from '../../protocol/usage-sql.ts';
import { type UsageEvent, type UsageRow, utcDay, utcMonth } from '../../protocol/usage.ts';

export interface MonthSpend {
  units: number;
  costMicros: number;
}

export interface UsageStore {
  /** Which store this is, for the log and /v1/usage's errors. */
  readonly name: string;
  /** Counts each event whose id it has not counted before; resolves how many were new. */
  record(events: readonly UsageEvent[]): Promise<number>;
  /** Rows per key, day, model and tier: one key's, or every key's (an export). */
  rows(from: string, to: string, keyId?: string): Promise<UsageRow[]>;
  /** A key's units and cost in the UTC month of `atMs`. */
  monthSpend(keyId: string, atMs: number): Promise<MonthSpend>;
}

export function redisUsageStore(redis: Redis): UsageStore {
  // protocol/usage-redis.ts is typed against @upstash/redis's Node entry; the Workers entry is the same client.
  const client = redis as unknown as Parameters<typeof recordEventsInRedis>[0];
  return {
    name: 'Upstash Redis',
    record: (events) => recordEventsInRedis(client, events),
    rows: (from, to, keyId) => readRowsFromRedis(client, from, to, keyId),
    monthSpend: (keyId, atMs) => monthSpendInRedis(client, keyId, utcMonth(atMs).month),
  };
}

/** The part of a D1 binding the store uses (Workers' D1Database). */
export interface D1Like {
  prepare(query: string): D1StatementLike;
  batch(statements: D1StatementLike[]): Promise<{ meta: { changes: number } }[]>;
}
interface D1StatementLike {
  bind(...values: unknown[]): D1StatementLike;
  all<T>(): Promise<{ results: T[] }>;
  first<T>(): Promise<T | null>;
}

export function isD1(binding: unknown): binding is D1Like {
  return typeof binding === 'object' && binding !== null && typeof (binding as D1Like).prepare === 'function';
}

export function d1UsageStore(db: D1Like): UsageStore {
  // Once per isolate: the table exists before the first statement that needs it.
  let ready: Promise<unknown> | undefined;
  const table = () => {
    ready ??= db.batch(createUsageTable.map((sql) => db.prepare(sql))).catch((err) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };
  return {
    name: 'D1 (local SQLite)',
    async record(events) {
      if (events.length === 0) return 0;
      await table();
      const insert = db.prepare(insertUsageEvent);
      // One batch is one transaction: all of it or none.
      const results = await db.batch(events.map((event) => insert.bind(...insertUsageEventParams(event, utcDay(event.atMs)))));
      return results.reduce((sum, result) => sum + result.meta.changes, 0);
    },
    async rows(from, to, keyId) {
      await table();
      const statement = keyId === undefined ? db.prepare(selectAllRows).bind(from, to) : db.prepare(selectKeyRows).bind(from, to, keyId);
      return usageRowsOfSql((await statement.all<SqlRow>()).results);
    },
    async monthSpend(keyId, atMs) {
      await table();
      const { firstDay, nextMonthFirstDay } = utcMonth(atMs);
      const row = await db
        .prepare(selectMonthSpend)
        .bind(keyId, firstDay, nextMonthFirstDay)
        .first<{ units: number; cost_micros: number }>();
      return { units: Number(row?.units ?? 0), costMicros: Number(row?.cost_micros ?? 0) };
    },
  };
}
