// Usage metering for consumption billing. A served request's event leaves the response path at once:
// `charge` returns the answer's x-edgeinfer-units/-cost headers and hands the event to
// `executionCtx.waitUntil`, which sends it to the metering queue (Cloudflare Queues: durable once
// sent). An isolate's events leave together: the first one waits `batchWindowMs` for company and they
// go as one `sendBatch`, so a busy isolate makes one queue call per window rather than one per
// request (each call is work on the isolate's thread while it serves the next request); `waitUntil`
// keeps the isolate alive until its event has left, as it did for a single send. The queue's consumer (`consume`) writes batches to the usage store and asks the queue to
// retry them, with backoff, while the store is down or slow; the store counts an event id once, so a
// retry never counts twice. Reads (`/v1/usage`, budgets) are bounded by a timeout: 503, never a hang.

import { Overloaded } from '../protocol/errors.ts';
import type { Plan } from '../protocol/api-keys.ts';
import { UsageEvent, type UsageRow } from '../protocol/usage.ts';
import type { PlanPrices } from './ratelimit/plans.ts';
import type { MonthSpend, UsageStore } from './usage/store.ts';

/** The producer side of the METERING_QUEUE binding (Workers' Queue). */
export interface MeteringQueue {
  sendBatch(messages: Iterable<{ body: UsageEvent; contentType?: 'json' }>): Promise<void>;
}

/** Workers' limit on one `sendBatch` (messages; 256 KB in all, far above 100 events' few hundred bytes each). */
export const maxQueueBatch = 100;

/** One message of a queue batch, as the Workers runtime hands it to `queue()`. */
export interface QueueMessage {
  readonly id: string;
  readonly body: unknown;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}
export interface QueueBatch {
  readonly queue: string;
  readonly messages: readonly QueueMessage[];
}

export function isQueue(binding: unknown): binding is MeteringQueue {
  return typeof binding === 'object' && binding !== null && typeof (binding as MeteringQueue).sendBatch === 'function';
}

/** What one served request did, as the route knows it. */
export interface Charge {
  /** The model's name for `/v2`, `task:<name>` for a task route. */
  model: string;
  tier: string;
  units: number;
  inputElements: number;
  computeMs: number;
  work?: { unit: string; amount: number } | undefined;
}

export const unitsHeader = 'x-edgeinfer-units';
export const costHeader = 'x-edgeinfer-cost';

export interface UsageMeterOptions {
  /** False (METERING=off): `charge` prices and answers, and records nothing. */
  recording: boolean;
  /** Undefined only where no store is bound: reads answer 503 and events are logged, not kept. */
  store: UsageStore | undefined;
  /** Undefined only without a METERING_QUEUE binding: events are then written to the store directly. */
  queue: MeteringQueue | undefined;
  prices: PlanPrices;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  /** How long an isolate's first unsent event waits for others to leave with it (0: the next turn of the event loop). */
  batchWindowMs: number;
  log: (line: string) => void;
  now: () => number;
}

class StoreTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

/** A money amount in micro-units as the decimal the answer carries: exact, trailing zeros dropped. */
export function formatMicros(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/** Seconds before a failed batch is tried again: 1, 2, 4 … up to a minute, so 100 tries span about 1.5 hours. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(60, 2 ** Math.max(0, attempts - 1));
}

export class UsageMeter {
  readonly #options: UsageMeterOptions;
  /** Events charged in this isolate and not yet sent. */
  readonly #unsent: UsageEvent[] = [];
  /** The pending send of `#unsent`, while the batch window is open. */
  #window: Promise<void> | undefined;

  constructor(options: UsageMeterOptions) {
    this.#options = options;
  }

  get currency(): string {
    return this.#options.prices.currency;
  }

  /**
   * Prices a served request for `principal`, starts recording it after the answer (through
   * `waitUntil`), and returns the headers that tell the caller what it cost.
   */
  charge(principal: { id: string; plan: Plan }, charge: Charge, waitUntil: (work: Promise<unknown>) => void): Record<string, string> {
    const costMicros = charge.units * this.#options.prices.pricePerUnitMicros[principal.plan];
    const event: UsageEvent = {
      eventId: crypto.randomUUID(),
      keyId: principal.id,
      atMs: this.#options.now(),
      model: charge.model,
      tier: charge.tier,
      units: charge.units,
      costMicros,
      inputElements: charge.inputElements,
      computeUs: Math.round(charge.computeMs * 1000),
      ...(charge.work && { work: { unit: charge.work.unit, amount: Math.round(charge.work.amount) } }),
    };
    if (this.#options.recording) waitUntil(this.#enqueue(event));
    return { [unitsHeader]: String(charge.units), [costHeader]: `${formatMicros(costMicros)} ${this.#options.prices.currency}` };
  }

  /** Resolves once `event` has left this isolate: sent to the queue, written to the store, or logged. */
  #enqueue(event: UsageEvent): Promise<void> {
    this.#unsent.push(event);
    if (this.#unsent.length >= maxQueueBatch) return this.#send(this.#unsent.splice(0));
    this.#window ??= new Promise<void>((resolve) => setTimeout(resolve, this.#options.batchWindowMs)).then(() => {
      this.#window = undefined;
      return this.#send(this.#unsent.splice(0));
    });
    return this.#window;
  }

  async #send(events: UsageEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { queue, store, log } = this.#options;
    if (queue) {
      try {
        await queue.sendBatch(events.map((body) => ({ body, contentType: 'json' as const })));
        return;
      } catch (err) {
        log(JSON.stringify({ event: 'metering-enqueue-failed', eventIds: events.map((e) => e.eventId), error: (err as Error).message }));
      }
    }
    try {
      if (!store) throw new Error('no usage store is bound');
      await withTimeout(store.record(events), this.#options.writeTimeoutMs);
    } catch (err) {
      // Every event whole in the log: the last place it can be recovered from.
      for (const usage of events) log(JSON.stringify({ event: 'metering-failed', usage, error: (err as Error).message }));
    }
  }

  /**
   * The queue consumer: one store write per batch. A batch the store did not take is retried with
   * backoff (the queue keeps it); malformed messages are logged and dropped, not retried forever.
   */
  async consume(batch: QueueBatch): Promise<void> {
    const { store, log } = this.#options;
    const valid: { message: QueueMessage; event: UsageEvent }[] = [];
    for (const message of batch.messages) {
      const parsed = UsageEvent.safeParse(message.body);
      if (parsed.success) valid.push({ message, event: parsed.data });
      else {
        log(JSON.stringify({ event: 'metering-message-dropped', messageId: message.id, reason: parsed.error.issues[0]?.message }));
        message.ack();
      }
    }
    if (valid.length === 0) return;
    try {
      if (!store) throw new Error('no usage store is bound');
      await withTimeout(store.record(valid.map((v) => v.event)), this.#options.writeTimeoutMs);
      for (const { message } of valid) message.ack();
    } catch (err) {
      const attempts = Math.max(...valid.map((v) => v.message.attempts));
      log(
        JSON.stringify({
          event: 'metering-store-unavailable',
          events: valid.length,
          attempts,
          retryInSeconds: retryDelaySeconds(attempts),
          error: (err as Error).message,
        }),
      );
      for (const { message } of valid) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }

  /** Rows of one key, or of every key; 503 with Retry-After when the store does not answer in time. */
  rows(from: string, to: string, keyId?: string): Promise<UsageRow[]> {
    return this.#read((store) => store.rows(from, to, keyId));
  }

  monthSpend(keyId: string): Promise<MonthSpend> {
    return this.#read((store) => store.monthSpend(keyId, this.#options.now()));
  }

  async #read<T>(read: (store: UsageStore) => Promise<T>): Promise<T> {
    const { store, readTimeoutMs } = this.#options;
    if (!store) throw new Overloaded('usage is not recorded here: the edge has no usage store (USAGE_DB or Upstash Redis)', 60);
    try {
      return await withTimeout(read(store), readTimeoutMs);
    } catch (err) {
      const why = err instanceof StoreTimeout ? `did not answer within ${readTimeoutMs} ms` : `failed (${(err as Error).message})`;
      throw new Overloaded(`the usage store (${store.name}) ${why}; try again shortly`, 5);
    }
  }
}
