// The usage store's layout in Redis (Upstash in production), shared by the edge, which writes and
// reads it, and `npm run usage`, which exports from it:
//
//   usage-event:<eventId>            "1", kept 8 days: the event was counted (a queue retry finds it and adds nothing)
//   usage:<keyId>:<YYYY-MM-DD>       hash: `<model>|<tier>|<metric>` → sum (requests, units, cost, elements, computeUs, work:<unit>)
//   usage-month:<keyId>:<YYYY-MM>    hash: units, cost: what a monthly budget is checked against
//   usage-keys:<YYYY-MM-DD>          set of the key ids with usage that day: what an export walks
//
// One event is one script run, atomic: either it was counted, marked and summed, or nothing changed.

import type { Redis } from '@upstash/redis';
import { daysBetween, type UsageEvent, type UsageRow, utcDay, utcMonth } from './usage.ts';

/** Days of usage kept: a year of billing periods and a month of disputes. */
const retentionSeconds = 400 * 24 * 60 * 60;
/** Longer than a metering message can wait in its queue (Cloudflare Queues keep one 4 days). */
const eventMarkerSeconds = 8 * 24 * 60 * 60;

// KEYS: event marker, day hash, month hash, day's key set. ARGV: marker TTL, usage TTL, key id,
// `<model>|<tier>|`, units, cost, elements, computeUs, work field (or ''), work amount.
const recordScript = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local p = ARGV[4]
redis.call('HINCRBY', KEYS[2], p .. 'requests', 1)
redis.call('HINCRBY', KEYS[2], p .. 'units', ARGV[5])
redis.call('HINCRBY', KEYS[2], p .. 'cost', ARGV[6])
redis.call('HINCRBY', KEYS[2], p .. 'elements', ARGV[7])
redis.call('HINCRBY', KEYS[2], p .. 'computeUs', ARGV[8])
if ARGV[9] ~= '' then redis.call('HINCRBY', KEYS[2], p .. ARGV[9], ARGV[10]) end
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[3], 'units', ARGV[5])
redis.call('HINCRBY', KEYS[3], 'cost', ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('EXPIRE', KEYS[4], ARGV[2])
return 1
`;

const dayKey = (keyId: string, day: string) => `usage:${keyId}:${day}`;
const monthKey = (keyId: string, month: string) => `usage-month:${keyId}:${month}`;
const keysOfDay = (day: string) => `usage-keys:${day}`;
const workPrefix = 'work:';

/** Counts each event not counted before, in one round trip; resolves how many were new. */
export async function recordEventsInRedis(redis: Redis, events: readonly UsageEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const pipeline = redis.pipeline();
  for (const event of events) {
    const day = utcDay(event.atMs);
    pipeline.eval(
      recordScript,
      [`usage-event:${event.eventId}`, dayKey(event.keyId, day), monthKey(event.keyId, utcMonth(event.atMs).month), keysOfDay(day)],
      [
        eventMarkerSeconds,
        retentionSeconds,
        event.keyId,
        `${event.model}|${event.tier}|`,
        event.units,
        event.costMicros,
        event.inputElements,
        event.computeUs,
        event.work ? `${workPrefix}${event.work.unit}` : '',
        event.work?.amount ?? 0,
      ],
    );
  }
  const counted = (await pipeline.exec()) as number[];
  return counted.reduce((sum, added) => sum + Number(added), 0);
}

function rowsOfHash(keyId: string, date: string, hash: Record<string, unknown> | null): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const [field, value] of Object.entries(hash ?? {})) {
    const [model, tier, metric] = field.split('|') as [string, string, string];
    const id = `${model}|${tier}`;
    let row = rows.get(id);
    if (!row) {
      row = { keyId, date, model, tier, requests: 0, units: 0, costMicros: 0, inputElements: 0, computeUs: 0, work: {} };
      rows.set(id, row);
    }
    const amount = Number(value);
    if (metric.startsWith(workPrefix)) row.work[metric.slice(workPrefix.length)] = amount;
    else if (metric === 'requests') row.requests = amount;
    else if (metric === 'units') row.units = amount;
    else if (metric === 'cost') row.costMicros = amount;
    else if (metric === 'elements') row.inputElements = amount;
    else if (metric === 'computeUs') row.computeUs = amount;
  }
  return [...rows.values()];
}

/** Rows of one key (or, for an export, of every key) from `from` to `to`: two round trips at most. */
export async function readRowsFromRedis(redis: Redis, from: string, to: string, keyId?: string): Promise<UsageRow[]> {
  const days = daysBetween(from, to);
  let pairs: { keyId: string; date: string }[];
  if (keyId !== undefined) pairs = days.map((date) => ({ keyId, date }));
  else {
    const members = redis.pipeline();
    for (const day of days) members.smembers(keysOfDay(day));
    const perDay = (await members.exec()) as string[][];
    pairs = days.flatMap((date, index) => (perDay[index] ?? []).map((id) => ({ keyId: String(id), date })));
  }
  if (pairs.length === 0) return [];
  const hashes = redis.pipeline();
  for (const pair of pairs) hashes.hgetall(dayKey(pair.keyId, pair.date));
  const results = (await hashes.exec()) as (Record<string, unknown> | null)[];
  return pairs.flatMap((pair, index) => rowsOfHash(pair.keyId, pair.date, results[index] ?? null));
}

/** A key's units and cost (micros) in the UTC month `month` (YYYY-MM): one round trip. */
export async function monthSpendInRedis(redis: Redis, keyId: string, month: string): Promise<{ units: number; costMicros: number }> {
  const hash = (await redis.hgetall(monthKey(keyId, month))) as Record<string, unknown> | null;
  return { units: Number(hash?.units ?? 0), costMicros: Number(hash?.cost ?? 0) };
}
