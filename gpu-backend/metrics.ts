// Prometheus metrics of the backend, on a registry of its own (not prom-client's global one), so that
// several servers in one process (tests, benchmarks) never share counters.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchObserver } from './batcher.ts';

export class BackendMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'edgeinfer_backend_requests_total',
    help: 'Inference requests answered, by model and HTTP status',
    labelNames: ['model', 'status'] as const,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'edgeinfer_backend_http_requests_in_flight',
    help: 'HTTP requests being answered, on every route (a scrape counts itself)',
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'edgeinfer_backend_request_duration_seconds',
    help: 'Time from receiving an inference request to answering it, by model',
    labelNames: ['model'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'edgeinfer_backend_batch_size',
    help: 'Rows per model run after dynamic batching, by model',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'edgeinfer_backend_queue_depth',
    help: 'Requests waiting in the batching queue, by model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'edgeinfer_backend_queue_wait_seconds',
    help: 'Time a request waited in the batching queue before its model run started, by model',
    labelNames: ['model'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** The batcher's view of one model, labelled with its name. */
  batchObserver(model: string): BatchObserver {
    return {
      batch: (rows) => this.batchSize.observe({ model }, rows),
      queueWait: (waitMs) => this.queueWait.observe({ model }, waitMs / 1000),
      queueDepth: (depth) => this.queueDepth.set({ model }, depth),
    };
  }
}
