// GET /metrics: the backend's Prometheus registry in the text exposition format.

import { Hono } from 'hono';
import type { BackendMetrics } from '../metrics.ts';

export function metricsRoutes(metrics: BackendMetrics): Hono {
  const app = new Hono();
  app.get('/', async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }));
  return app;
}
