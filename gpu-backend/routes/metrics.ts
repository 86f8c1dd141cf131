// GET /metrics: the backend's Prometheus registry in the text exposition format, for a scraper holding
// METRICS_TOKEN (`Authorization: Bearer …`). The service is reachable from the internet (infra/README.md),
// so without a token configured the route is off: what the backend serves, how busy it is and how its
// queues stand are not for everyone.

import { Hono } from 'hono';
import { NotFound, Unauthorized } from '../../protocol/errors.ts';
import type { BackendMetrics } from '../metrics.ts';

const encoder = new TextEncoder();

/** Equal-length comparison without early exit; the length of a token is no secret worth hiding. */
function sameToken(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= a[index]! ^ b[index]!;
  return difference === 0;
}

export function metricsRoutes(metrics: BackendMetrics, token: string | undefined): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    if (token === undefined) throw new NotFound('metrics are off on this server: set METRICS_TOKEN to scrape them');
    const given = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (given === undefined) throw new Unauthorized('GET /metrics needs Authorization: Bearer METRICS_TOKEN');
    if (!sameToken(given, token)) throw new Unauthorized('the metrics token does not match');
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType });
  });
  return app;
}
