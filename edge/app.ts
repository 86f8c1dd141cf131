// Assembles the edge Worker: middleware order and routes, nothing else.

import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { errorResponse, NotFound } from '../protocol/errors.ts';
import type { EdgeInference } from './inference.ts';
import type { ModelRegistry } from './registry.ts';
import type { EdgeEnv } from './context.ts';
import { authenticate, type AuthOptions, requireModelAccess } from './auth/middleware.ts';
import { unauthenticatedLocalBenchmark } from './middleware/local-benchmark.ts';
import { limitByPlan, limitFailedAuthByIp, type RateLimitOptions } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { corsFromAllowlist, securityHeaders } from './middleware/security.ts';
import { docsRoutes } from './routes/docs.ts';
import { playgroundRoutes } from './routes/playground.ts';
import { taskRoutes } from './routes/tasks.ts';
import { usageRoutes } from './routes/usage.ts';
import { v2Routes } from './routes/v2.ts';
import type { UsageMeter } from './metering.ts';
import type { EdgeTasks } from './tasks.ts';
import { acceptJob, type JobsDeps } from './jobs/accept.ts';
import { replayable } from './jobs/replay.ts';
import { inferJobBody, taskJobBody } from './jobs/route-bodies.ts';
import { jobRoutes } from './jobs/routes.ts';
import { responseCache, type ResponseCacheDeps } from './cache/middleware.ts';
import { inferCacheable, taskCacheable } from './cache/route-keys.ts';

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
  /** Async jobs (Prefer: respond-async); undefined: the preference is ignored, as RFC 7240 allows. */
  jobs: JobsDeps | undefined;
  /** The response cache for deterministic models; undefined: no caching. */
  cache: ResponseCacheDeps | undefined;
  log: (line: string) => void;
}

export function createApp(deps: EdgeDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.use(requestId());
  app.use(requestLog(deps.log));
  app.use(securityHeaders());
  app.use(corsFromAllowlist(deps.corsAllowedOrigins));
  // Failed authentications count against the client IP, and past its limit it is refused before its
  // credential is looked up; an authenticated caller counts against its plan.
  const failedAuthByIp = limitFailedAuthByIp(deps.rateLimit);
  const byPlan = limitByPlan(deps.rateLimit);
  const guard = (...after: MiddlewareHandler<EdgeEnv>[]) =>
    deps.gatewayChecks ? every(failedAuthByIp, authenticate(deps.auth), byPlan, ...after) : unauthenticatedLocalBenchmark();
  // Every model-running route: its gate (skipped for a job's replay, which was gated when accepted),
  // then async acceptance (202), then the response cache, then the route's handler.
  app.route(
    '/v2',
    v2Routes({
      ...deps,
      inferGuard: every(
        replayable(guard(requireModelAccess())),
        acceptJob(deps.jobs, inferJobBody(deps.registry)),
        responseCache(deps.cache, inferCacheable(deps.registry)),
      ),
    }),
  );
  // A task request is charged by its work (seconds of audio, megapixels), known once its body is read.
  const taskGuard = (prepare: MiddlewareHandler<EdgeEnv>, units: (c: Context<EdgeEnv>) => number) =>
    every(
      replayable(
        deps.gatewayChecks
          ? every(failedAuthByIp, authenticate(deps.auth), prepare, limitByPlan(deps.rateLimit, units))
          : every(unauthenticatedLocalBenchmark(), prepare),
        prepare,
      ),
      acceptJob(deps.jobs, taskJobBody),
      responseCache(deps.cache, taskCacheable(deps.registry)),
    );
  app.route('/v1', taskRoutes({ tasks: deps.tasks, meter: deps.meter, guard: taskGuard }));
  // Reading a job is authenticated but not charged against the plan: polling must not eat the limit.
  const authenticateOnly = deps.gatewayChecks ? every(failedAuthByIp, authenticate(deps.auth)) : unauthenticatedLocalBenchmark();
  app.route('/v1', jobRoutes({ config: deps.jobs?.config, authenticate: authenticateOnly }));
  app.route('/v1', usageRoutes({ meter: deps.meter, authenticate: guard() }));
  app.route('/', docsRoutes([...deps.registry.manifests.values()]));
  app.route('/', playgroundRoutes());
  app.notFound((c) => errorResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  // The log gets the fault's name and message; a stack trace names internals and stays out of logs too.
  app.onError((err) =>
    errorResponse(err, (unexpected) => deps.log(JSON.stringify({ event: 'unexpected-error', error: describeFault(unexpected) }))),
  );
  return app;
}
