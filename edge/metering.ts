// Usage metering for consumption billing: per API key and UTC day, the requests, input elements,
// compute milliseconds and the tier that served them. One inference is one Redis pipeline (one round
// trip), written after the answer through `waitUntil`; reading a range is one pipeline too.

import type { Redis } from '@upstash/redis/cloudflare';
import { ModelUnavailable } from '../protocol/errors.ts';
import type { DayUsage, Usage } from '../protocol/usage.ts';

/** Days of usage kept: a year of billing periods and a month of disputes. */
const retentionSeconds = 400 * 24 * 60 * 60;
/** The longest range one usage query may ask for. */
export const maxUsageDays = 92;

export interface UsageEvent {
  keyId: string;
  atMs: number;
  inputElements: number;
  computeMs: number;
  tier: string;
  /** A task request's work, read from its files' headers: milliseconds of audio, or pixels. */
  work?: { unit: string; amount: number } | undefined;
  /** Set when the response cache answered (edge/cache/): no model ran; the compute units it is charged (the manifest's hit price). */
  cacheHit?: { computeUnits: number } | undefined;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const usageKey = (keyId: string, day: string) => `usage:${keyId}:${day}`;
const tierField = 'tier:';
const workField = 'work:';

function prefixed(hash: Record<string, unknown>, prefix: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(hash)
      .filter(([field]) => field.startsWith(prefix))
      .map(([field, count]) => [field.slice(prefix.length), Number(count)]),
  );
}

function addInto(target: Record<string, number>, counts: Record<string, number>): void {
  for (const [name, count] of Object.entries(counts)) target[name] = (target[name] ?? 0) + count;
}

/** Adds one inference to its key's day, atomically per field, in one round trip. */
export async function recordUsage(redis: Redis, event: UsageEvent): Promise<void> {
  const key = usageKey(event.keyId, utcDay(event.atMs));
  const pipeline = redis
    .pipeline()
    .hincrby(key, 'requests', 1)
    .hincrby(key, 'inputElements', event.inputElements)
    // Whole microseconds: integer increments add up exactly, where float increments would drift.
    .hincrby(key, 'computeUs', Math.round(event.computeMs * 1000))
    .hincrby(key, `${tierField}${event.tier}`, 1);
  if (event.work) pipeline.hincrby(key, `${workField}${event.work.unit}`, Math.round(event.work.amount));
  if (event.cacheHit) pipeline.hincrby(key, 'cacheHits', 1);
  await pipeline.expire(key, retentionSeconds).exec();
}

function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000) days.push(utcDay(ms));
  return days;
}

/** One key's usage for each day from `from` to `to` (inclusive, YYYY-MM-DD), days without use included. */
export async function readUsage(redis: Redis, keyId: string, from: string, to: string): Promise<{ days: DayUsage[]; total: Usage }> {
  const days = daysBetween(from, to);
  const pipeline = redis.pipeline();
  for (const day of days) pipeline.hgetall(usageKey(keyId, day));
  const hashes = days.length ? ((await pipeline.exec()) as (Record<string, unknown> | null)[]) : [];
  const total: Usage = { requests: 0, inputElements: 0, computeMs: 0, requestsByTier: {}, work: {} };
  const perDay = days.map((date, index) => {
    const hash = hashes[index] ?? {};
    const usage: DayUsage = {
      date,
      requests: Number(hash.requests ?? 0),
      inputElements: Number(hash.inputElements ?? 0),
      computeMs: Number(hash.computeUs ?? 0) / 1000,
      requestsByTier: prefixed(hash, tierField),
      work: prefixed(hash, workField),
    };
    total.requests += usage.requests;
    total.inputElements += usage.inputElements;
    total.computeMs += usage.computeMs;
    addInto(total.requestsByTier, usage.requestsByTier);
    addInto(total.work, usage.work);
    return usage;
  });
  return { days: perDay, total };
}

/**
 * The meter as the routes use it: writes never fail a request (they run after the answer, and an
 * error is logged), reads answer 503 when there is no Redis to read from.
 */
export class UsageMeter {
  readonly #redis: Redis | undefined;
  readonly #log: (line: string) => void;

  constructor(redis: Redis | undefined, log: (line: string) => void) {
    this.#redis = redis;
    this.#log = log;
  }

  async record(event: UsageEvent): Promise<void> {
    if (!this.#redis) return;
    try {
      await recordUsage(this.#redis, event);
    } catch (err) {
      this.#log(JSON.stringify({ event: 'metering-failed', keyId: event.keyId, error: (err as Error).message }));
    }
  }

  async read(keyId: string, from: string, to: string) {
    if (!this.#redis) throw new ModelUnavailable('usage is not recorded here: the edge has no Upstash Redis (UPSTASH_REDIS_REST_URL)');
    return readUsage(this.#redis, keyId, from, to);
  }
}
