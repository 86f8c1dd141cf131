// The parts of the Workers runtime's Queue, R2 and Durable Object bindings that jobs use, typed here
// (the project does not carry @cloudflare/workers-types) so each function states what it needs.

import type { JobRecordStore } from './job-object-api.ts';
import type { JobMessage } from './job-state.ts';

export interface QueueSender<Body> {
  send(body: Body, options?: { delaySeconds?: number }): Promise<void>;
}

export interface QueueMessage<Body> {
  readonly id: string;
  readonly body: Body;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface QueueBatch<Body> {
  readonly queue: string;
  readonly messages: readonly QueueMessage<Body>[];
}

export interface R2Object {
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2Store {
  put(key: string, value: ArrayBuffer | Uint8Array | string): Promise<unknown>;
  get(key: string): Promise<R2Object | null>;
  delete(keys: string | string[]): Promise<void>;
}

export interface DurableObjectIdLike {
  toString(): string;
}

export interface JobNamespace {
  idFromName(name: string): DurableObjectIdLike;
  get(id: DurableObjectIdLike): JobRecordStore;
}

export type { JobMessage } from './job-state.ts';

export interface JobBindings {
  queue: QueueSender<JobMessage>;
  data: R2Store;
  records: JobNamespace;
}
