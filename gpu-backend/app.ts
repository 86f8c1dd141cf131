// Assembles the GPU backend's app: routes and the one error mapping, nothing else.

import { Hono } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { errorResponse, MethodNotAllowed, NotFound } from '../protocol/errors.ts';
import { logLine } from '../protocol/log.ts';
import type { BackendDeps } from './context.ts';
import type { BackendEnv } from './middleware/body.ts';
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
  app.route('/v2', v2Routes(deps));
  app.route('/v1', taskRoutes(deps));
  app.route('/metrics', metricsRoutes(deps.metrics));
  app.route('/', vertexRoutes(deps));
  app.notFound((c) => errorResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err) =>
    errorResponse(err, (unexpected) =>
      deps.log(logLine('ERROR', `unexpected error: ${(unexpected as Error)?.stack ?? String(unexpected)}`, { event: 'unexpected-error' })),
    ),
  );
  return app;
}
