// Assembles the GPU backend's app: routes and the one error mapping, nothing else.

import { Hono } from 'hono';
import { errorResponse, NotFound } from '../protocol/errors.ts';
import type { BackendConfig } from './config.ts';
import type { InferenceService } from './inference.ts';
import type { BackendMetrics } from './metrics.ts';
import type { BackendEnv } from './middleware/body.ts';
import type { Readiness } from './readiness.ts';
import type { ModelRegistry } from './registry.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { taskRoutes } from './routes/tasks.ts';
import { v2Routes } from './routes/v2.ts';
import { vertexRoutes } from './routes/vertex.ts';
import type { OnnxRuntime } from './runtime.ts';
import type { BackendTasks } from './tasks.ts';

export interface BackendDeps {
  registry: ModelRegistry;
  runtime: OnnxRuntime;
  inference: InferenceService;
  tasks: BackendTasks;
  readiness: Readiness;
  metrics: BackendMetrics;
  /** The edge's signing secret; undefined when signatures are not required (local development). */
  signatureSecret: string | undefined;
  vertex: BackendConfig['vertex'];
  log: (line: string) => void;
}

export function createApp(deps: BackendDeps): Hono<BackendEnv> {
  const app = new Hono<BackendEnv>();
  app.route('/v2', v2Routes(deps));
  app.route('/v1', taskRoutes(deps));
  app.route('/metrics', metricsRoutes(deps.metrics));
  app.route('/', vertexRoutes(deps));
  app.notFound((c) => errorResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err) =>
    errorResponse(err, (unexpected) => deps.log(`unexpected error: ${(unexpected as Error)?.stack ?? String(unexpected)}`)),
  );
  return app;
}
