// Assembles the GPU backend's app: the gates every request passes (drain, then the edge's signature,
// checked before any body is read), the routes, and the one error mapping.

import { Hono } from 'hono';
import { errorResponse, NotFound } from '../protocol/errors.ts';
import type { BackendConfig } from './config.ts';
import { answerWhileDraining, type Drain } from './drain.ts';
import { ClientGone } from './incoming-body.ts';
import type { InferenceService } from './inference.ts';
import type { BackendMetrics } from './metrics.ts';
import type { BackendEnv } from './middleware/body.ts';
import { edgeSignature } from './middleware/edge-signature.ts';
import type { SeenNonces } from './nonces.ts';
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
  drain: Drain;
  /** The secrets the edge may sign with (current first); undefined when signatures are not required (local development). */
  signatureSecrets: readonly string[] | undefined;
  nonces: SeenNonces;
  /** Bearer token for GET /metrics; undefined turns the route off. */
  metricsToken: string | undefined;
  vertex: BackendConfig['vertex'];
  log: (line: string) => void;
  now?: () => number;
}

export function createApp(deps: BackendDeps): Hono<BackendEnv> {
  const app = new Hono<BackendEnv>();
  // The platforms' probes answer for themselves while draining (ready says 503, live says 200).
  const probes = new Set(['/v2/health/live', '/v2/health/ready', deps.vertex.healthRoute]);
  app.use('*', answerWhileDraining(deps.drain, probes));
  app.use('*', edgeSignature({ secrets: deps.signatureSecrets, nonces: deps.nonces, now: deps.now, log: deps.log }));
  app.route('/v2', v2Routes(deps));
  app.route('/v1', taskRoutes(deps));
  app.route('/metrics', metricsRoutes(deps.metrics, deps.metricsToken));
  app.route('/', vertexRoutes(deps));
  app.notFound((c) => errorResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => {
    // Nobody is waiting for this answer, and it is not a fault of the server's.
    if (err instanceof ClientGone) deps.log(`client-gone: ${c.req.method} ${c.req.path}: ${err.message}`);
    return errorResponse(err, (unexpected) => deps.log(`unexpected error: ${(unexpected as Error)?.stack ?? String(unexpected)}`));
  });
  return app;
}
