// Counts inference requests by model and status and times them, whatever the outcome: it runs around
// the handler and after app.onError has turned a thrown error into its response.

import type { MiddlewareHandler } from 'hono';
import type { BackendMetrics } from '../metrics.ts';
import type { BackendEnv } from './body.ts';

export function requestMetrics(metrics: BackendMetrics): MiddlewareHandler<BackendEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // Only a served model's name labels a series ('unknown' otherwise), so callers cannot mint labels.
      const model = c.get('model')?.manifest.name ?? 'unknown';
      metrics.requests.inc({ model, status: String(c.res.status) });
      metrics.latency.observe({ model }, (performance.now() - started) / 1000);
    }
  };
}
