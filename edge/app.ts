// Assembles the edge Worker: middleware order and routes, nothing else.

import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { errorResponse, MethodNotAllowed, NotFound } from '../protocol/errors.ts';
import { logLine } from '../protocol/log.ts';
import type { EdgeInference } from './inference.ts';
import type { ModelRegistry } from './registry.ts';
import type { EdgeEnv } from './context.ts';
import { authenticate, type AuthOptions, requireModelAccess } from './auth/middleware.ts';
import { unauthenticatedLocalBenchmark } from './middleware/local-benchmark.ts';
import { limitByPlan, limitFailedAuthByIp, type RateLimitOptions } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { corsFromAllowlist, securityHeaders } from './middleware/security.ts';
import { openApiDocument } from './openapi.ts';
import { docsRoutes } from './routes/docs.ts';
import { playgroundRoutes } from './routes/playground.ts';
import { taskRoutes } from './routes/tasks.ts';
import { usageRoutes } from './routes/usage.ts';
import { v2Routes } from './routes/v2.ts';
import type { UsageMeter } from './metering.ts';
import type { ReadinessReport } from './readiness.ts';
import type { EdgeTasks } from './tasks.ts';

function describeFault(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export interface EdgeDeps {
  corsAllowedOrigins: readonly string[];
  registry: ModelRegistry;
  inference: EdgeInference;
  tasks: EdgeTasks;
  meter: UsageMeter;
  auth: AuthOptions;
  rateLimit: RateLimitOptions;
  /** False only for a local benchmark's baseline (see edge/config.ts): no authentication, no limits. */
  gatewayChecks: boolean;
  /** `/v2/health/ready`'s report (edge/readiness.ts). */
  readiness: () => Promise<ReadinessReport>;
  /** Names the traces in log lines (GOOGLE_CLOUD_PROJECT). */
  gcpProjectId?: string | undefined;
  log: (line: string) => void;
}

export function createApp(deps: EdgeDeps): OpenAPIHono<EdgeEnv> {
  const app = new OpenAPIHono<EdgeEnv>();
  app.use(requestId());
  app.use(requestLog(deps.log, deps.gcpProjectId));
  app.use(securityHeaders());
  app.use(corsFromAllowlist(deps.corsAllowedOrigins));
  // One rule for every route: a path that exists under other methods answers 405 with Allow (after
  // the middleware above, so it is logged and carries the request id and security headers).
  app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => errorResponse(new MethodNotAllowed(c.req.method, methods)) }));
  // Failed authentications count against the client IP, and past its limit it is refused before its
  // credential is looked up; an authenticated caller counts against its plan.
  const failedAuthByIp = limitFailedAuthByIp(deps.rateLimit);
  const byPlan = limitByPlan(deps.rateLimit);
  const guard = (...after: MiddlewareHandler<EdgeEnv>[]) =>
    deps.gatewayChecks ? every(failedAuthByIp, authenticate(deps.auth), byPlan, ...after) : unauthenticatedLocalBenchmark();
  app.route('/v2', v2Routes({ ...deps, inferGuard: guard(requireModelAccess()) }));
  // A task request is charged by its work (seconds of audio, megapixels), known once its body is read.
  const taskGuard = (prepare: MiddlewareHandler<EdgeEnv>, units: (c: Context<EdgeEnv>) => number) =>
    deps.gatewayChecks
      ? every(failedAuthByIp, authenticate(deps.auth), prepare, limitByPlan(deps.rateLimit, units))
      : every(unauthenticatedLocalBenchmark(), prepare);
  app.route('/v1', taskRoutes({ tasks: deps.tasks, meter: deps.meter, guard: taskGuard }));
  app.route('/v1', usageRoutes({ meter: deps.meter, authenticate: guard() }));
  app.route(
    '/',
    docsRoutes([...deps.registry.manifests.values()], () => openApiDocument(app)),
  );
  app.route('/', playgroundRoutes());
  app.notFound((c) => errorResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  // The log gets the fault's name and message; a stack trace names internals and stays out of logs too.
  app.onError((err) =>
    errorResponse(err, (unexpected) => deps.log(logLine('ERROR', describeFault(unexpected), { event: 'unexpected-error' }))),
  );
  return app;
}
