// Assembles the edge Worker: middleware order and routes, nothing else.

import { Hono } from 'hono';
import { errorResponse, NotFound } from '../protocol/errors.ts';
import type { EdgeInference } from './inference.ts';
import type { ModelRegistry } from './registry.ts';
import { corsFromAllowlist, securityHeaders } from './middleware/security.ts';
import { docsRoutes } from './routes/docs.ts';
import { v2Routes } from './routes/v2.ts';

export interface EdgeDeps {
  corsAllowedOrigins: readonly string[];
  registry: ModelRegistry;
  inference: EdgeInference;
  log: (line: string) => void;
}

export function createApp(deps: EdgeDeps): Hono {
  const app = new Hono();
  app.use(securityHeaders());
  app.use(corsFromAllowlist(deps.corsAllowedOrigins));
  app.route('/v2', v2Routes(deps));
  app.route('/', docsRoutes([...deps.registry.manifests.values()]));
  app.notFound((c) => errorResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err) => errorResponse(err, (unexpected) => deps.log(`unexpected error: ${(unexpected as Error)?.stack ?? String(unexpected)}`)));
  return app;
}
