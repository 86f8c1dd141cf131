// Assembles the GPU backend's app: the gates every request passes (drain, then the edge's signature,
// checked before any body is read), the routes, and the one error mapping.

import { Hono } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { errorResponse, MethodNotAllowed, NotFound } from '../protocol/errors.ts';
import { logLine } from '../protocol/log.ts';
import type { BackendDeps } from './context.ts';
import { answerWhileDraining } from './drain.ts';
import { ClientGone } from './incoming-body.ts';
import type { BackendEnv } from './middleware/body.ts';
import { edgeSignature } from './middleware/edge-signature.ts';
import { requestLog } from './middleware/request-log.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { taskRoutes } from './routes/tasks.ts';
import { v2Routes } from './routes/v2.ts';
import { vertexRoutes } from './routes/vertex.ts';

export type { BackendDeps } from './context.ts';

export function createApp(deps: BackendDeps): Hono<BackendEnv> {
  const app = new Hono<BackendEnv>();
  app.use(requestLog({ log: deps.log, projectId: deps.gcpProjectId }));
  // One rule for every route: a path that exists under other methods answers 405 with Allow.
  app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => errorResponse(new MethodNotAllowed(c.req.method, methods)) }));
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
    if (err instanceof ClientGone)
      deps.log(logLine('INFO', `client-gone: ${c.req.method} ${c.req.path}: ${err.message}`, { event: 'client-gone' }));
    return errorResponse(err, (unexpected) =>
      deps.log(logLine('ERROR', `unexpected error: ${(unexpected as Error)?.stack ?? String(unexpected)}`, { event: 'unexpected-error' })),
    );
  });
  return app;
}
