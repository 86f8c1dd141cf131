// Dynamic batching for one model, in the spirit of Triton's dynamic batcher: while the model is busy,
// requests queue; when it is free, the oldest request and every queued request that can share its
// batch are concatenated along each input's batch dimension (up to maxBatch rows), run once, and each
// caller gets exactly its own rows back. If the batch is not full, the oldest request may wait up to
// maxQueueDelayMs for company, unless a request in it asked not to (a task pipeline's call, whose
// next call waits on this one's answer). The queue is bounded and every request has a deadline, so a caller
// always gets an answer: its outputs, or Overloaded (503 with Retry-After).

import { Overloaded } from '../protocol/errors.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import type { TensorSpec } from '../models/manifest.ts';
import { concatAlong, splitAlong } from './batch-tensors.ts';

export interface BatchRequest {
  /** One tensor per model input, in the manifest's input order (as decodeInferRequest returns them). */
  inputs: Tensor[];
  outputNames: string[];
  /** Rows along the batch dimension; 1 for a model without one. */
  batchSize: number;
}

export interface SubmitOptions {
  /**
   * false runs the request as soon as the model is free, with whatever compatible requests are queued
   * then, instead of waiting up to maxQueueDelayMs for more (default true).
   */
  waitForCompany?: boolean;
}

/** Runs the model once; returns the outputs named, in that order. It may take (detach) its inputs' buffers. */
export type RunModel = (inputs: Tensor[], outputNames: string[]) => Promise<Tensor[]>;

export interface BatchObserver {
  /** A batch was dispatched with this many rows from this many requests. */
  batch(rows: number, requests: number): void;
  /** A request left the queue after waiting this long. */
  queueWait(waitMs: number): void;
  queueDepth(depth: number): void;
}

export interface BatcherOptions {
  model: string;
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
  /** Rows one run joins from several requests; a single larger request still runs, alone. */
  maxBatch: number;
  maxQueueDelayMs: number;
  /** Requests that may wait at once; one more is refused with Overloaded. */
  maxQueueSize: number;
  /** false runs every request by itself, in arrival order (the baseline the benchmark compares with). */
  enabled: boolean;
  run: RunModel;
  now?: () => number;
  observer?: BatchObserver;
}

interface Queued {
  request: BatchRequest;
  /** Requests with equal keys can share a batch; undefined for one that must run alone. */
  key: string | undefined;
  waitsForCompany: boolean;
  enqueuedMs: number;
  deadline: ReturnType<typeof setTimeout>;
  resolve(outputs: Tensor[]): void;
  reject(err: unknown): void;
}

const retryAfterSeconds = 1;

export class DynamicBatcher {
  readonly #options: BatcherOptions;
  readonly #now: () => number;
  readonly #queue: Queued[] = [];
  #running = false;
  #delayTimer: ReturnType<typeof setTimeout> | undefined;
  #draining = false;
  readonly #idleWaiters: (() => void)[] = [];

  constructor(options: BatcherOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Queues a request; resolves with its outputs, or rejects with Overloaded when full or past its deadline. */
  submit(request: BatchRequest, timeoutMs: number, options: SubmitOptions = {}): Promise<Tensor[]> {
    const { model, maxQueueSize } = this.#options;
    if (this.#queue.length >= maxQueueSize) {
      return Promise.reject(new Overloaded(`model '${model}' has ${maxQueueSize} requests waiting; retry shortly`, retryAfterSeconds));
    }
    return new Promise<Tensor[]>((resolve, reject) => {
      const item: Queued = {
        request,
        key: this.#keyOf(request),
        waitsForCompany: options.waitForCompany ?? true,
        enqueuedMs: this.#now(),
        // Only a request still waiting can expire: one already running gets its result.
        deadline: setTimeout(() => {
          if (this.#remove(item)) {
            reject(new Overloaded(`model '${model}' did not start this request within ${timeoutMs} ms; retry shortly`, retryAfterSeconds));
          }
        }, timeoutMs),
        resolve,
        reject,
      };
      this.#queue.push(item);
      this.#options.observer?.queueDepth(this.#queue.length);
      this.#schedule();
    });
  }

  /** Runs everything queued without waiting for company; resolves once the queue is empty and idle. */
  drain(): Promise<void> {
    this.#draining = true;
    this.#schedule();
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return !this.#running && this.#queue.length === 0;
  }

  /**
   * The compatibility key: the shape of every input with its batch axis blanked, the bytes of every
   * input that has no batch axis (one value shared by the whole batch, e.g. a sample rate), and the
   * outputs asked for. A request whose outputs cannot be split by row never shares a batch.
   */
  #keyOf(request: BatchRequest): string | undefined {
    const { inputs, outputs, enabled } = this.#options;
    if (!enabled || request.batchSize === 0) return undefined;
    if (!inputs.some((spec) => spec.batchDimension !== undefined)) return undefined;
    const outputSpecs = request.outputNames.map((name) => outputs.find((spec) => spec.name === name));
    if (outputSpecs.some((spec) => spec?.batchDimension === undefined)) return undefined;
    const parts = request.inputs.map((tensor, i) => {
      const axis = inputs[i]!.batchDimension;
      if (axis !== undefined) return tensor.shape.map((size, a) => (a === axis ? '*' : size)).join('x');
      const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
      return `${tensor.shape.join('x')}=${bytes.toString('base64')}`;
    });
    return `${parts.join('|')}>${request.outputNames.join(',')}`;
  }

  #remove(item: Queued): boolean {
    const index = this.#queue.indexOf(item);
    if (index < 0) return false;
    this.#queue.splice(index, 1);
    this.#options.observer?.queueDepth(this.#queue.length);
    if (this.#isIdle()) this.#notifyIdle();
    return true;
  }

  #notifyIdle(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** The oldest request and the queued ones that fit its batch, oldest first. */
  #gather(): { items: Queued[]; rows: number } {
    const oldest = this.#queue[0]!;
    const items = [oldest];
    let rows = oldest.request.batchSize;
    if (oldest.key === undefined) return { items, rows };
    for (const item of this.#queue.slice(1)) {
      if (item.key !== oldest.key || rows + item.request.batchSize > this.#options.maxBatch) continue;
      items.push(item);
      rows += item.request.batchSize;
      if (rows === this.#options.maxBatch) break;
    }
    return { items, rows };
  }

  #schedule(): void {
    if (this.#running || this.#queue.length === 0) return;
    clearTimeout(this.#delayTimer);
    this.#delayTimer = undefined;
    const { items, rows } = this.#gather();
    const oldest = items[0]!;
    const waitedMs = this.#now() - oldest.enqueuedMs;
    const full = rows >= this.#options.maxBatch || oldest.key === undefined || items.some((item) => !item.waitsForCompany);
    if (!full && !this.#draining && waitedMs < this.#options.maxQueueDelayMs) {
      this.#delayTimer = setTimeout(() => this.#schedule(), this.#options.maxQueueDelayMs - waitedMs);
      return;
    }
    void this.#dispatch(items, rows);
  }

  async #dispatch(items: Queued[], rows: number): Promise<void> {
    this.#running = true;
    const now = this.#now();
    for (const item of items) {
      clearTimeout(item.deadline);
      this.#queue.splice(this.#queue.indexOf(item), 1);
      this.#options.observer?.queueWait(now - item.enqueuedMs);
    }
    this.#options.observer?.queueDepth(this.#queue.length);
    this.#options.observer?.batch(rows, items.length);
    try {
      await this.#runBatch(items);
    } finally {
      this.#running = false;
      if (this.#isIdle()) this.#notifyIdle();
      this.#schedule();
    }
  }

  async #runBatch(items: Queued[]): Promise<void> {
    const { run } = this.#options;
    if (items.length === 1) {
      const [item] = items as [Queued];
      await run(item.request.inputs, item.request.outputNames).then(item.resolve, item.reject);
      return;
    }
    let split: Tensor[][];
    try {
      const outputs = await run(this.#concatInputs(items), items[0]!.request.outputNames);
      split = this.#splitOutputs(outputs, items);
    } catch {
      // One caller's input may be what failed (a value the model rejects): run each alone, so that
      // every caller gets the answer it would have had without batching.
      for (const item of items) await run(item.request.inputs, item.request.outputNames).then(item.resolve, item.reject);
      return;
    }
    items.forEach((item, i) => item.resolve(split[i]!));
  }

  #concatInputs(items: readonly Queued[]): Tensor[] {
    return this.#options.inputs.map((spec, i) => {
      const parts = items.map((item) => item.request.inputs[i]!);
      // Inputs without a batch axis are equal across the batch (they are part of the key). The first
      // caller's is copied: the run takes its inputs' buffers, and if it fails each caller runs alone.
      if (spec.batchDimension === undefined) return { ...parts[0]!, data: parts[0]!.data.slice() as Tensor['data'] };
      return concatAlong(parts, spec.batchDimension);
    });
  }

  #splitOutputs(outputs: readonly Tensor[], items: readonly Queued[]): Tensor[][] {
    const rows = items.map((item) => item.request.batchSize);
    const perOutput = outputs.map((tensor) => {
      const axis = this.#options.outputs.find((spec) => spec.name === tensor.name)!.batchDimension!;
      return splitAlong(tensor, axis, rows);
    });
    return items.map((_, i) => perOutput.map((pieces) => pieces[i]!));
  }
}
