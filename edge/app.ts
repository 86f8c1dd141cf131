// Assembles the edge Worker: middleware order and routes, nothing else.

import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { auditLog } from '../protocol/audit.ts';
import { ClientClosedRequest, errorResponse, HttpError, MethodNotAllowed, NotFound } from '../protocol/errors.ts';
import { logLine } from '../protocol/log.ts';
import type { EdgeInference } from './inference.ts';
import type { ModelRegistry } from './registry.ts';
import type { EdgeEnv } from './context.ts';
import { authenticate, type AuthOptions, authorize, type ModelGate } from './auth/middleware.ts';
import { type BudgetOptions, enforceBudget } from './middleware/budget.ts';
import { unauthenticatedLocalBenchmark } from './middleware/local-benchmark.ts';
import { failedAuthAttempts, limitByPlan, limitPublicByIp, type RateLimitOptions } from './middleware/rate-limit.ts';
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
import { acceptJob, type JobsDeps } from './jobs/accept.ts';
import { replayable } from './jobs/replay.ts';
import { inferJobBody, taskJobBody } from './jobs/route-bodies.ts';
import { jobRoutes } from './jobs/routes.ts';
import { cachedAnswer, responseCache, type ResponseCacheDeps } from './cache/middleware.ts';
import { inferBytes, inferCanonical, taskBytes, taskCanonical } from './cache/route-keys.ts';
import type { CacheableBytes, CanonicalRequest } from './cache/cacheable.ts';

/** How a route describes its requests to the response cache: as bytes once read, canonically once parsed. */
interface CacheDescription {
  bytes: (c: Context<EdgeEnv>) => CacheableBytes | undefined;
  canonical: CanonicalRequest<Context<EdgeEnv>>;
}

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
  /** Monthly budgets, checked before a request's body is read (edge/middleware/budget.ts). */
  budget: Omit<BudgetOptions, 'meter'>;
  /** False only for a local benchmark's baseline (see edge/config.ts): no authentication, no limits. */
  gatewayChecks: boolean;
  /** Async jobs (Prefer: respond-async); undefined: the preference is ignored, as RFC 7240 allows. */
  jobs: JobsDeps | undefined;
  /** The response cache for deterministic models; undefined: no caching. */
  cache: ResponseCacheDeps | undefined;
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
  const audit = auditLog(deps.log);
  const pass: MiddlewareHandler<EdgeEnv> = (_c, next) => next();
  // Who is calling: an attempt of the client address is taken before any credential is looked up.
  const caller = deps.gatewayChecks
    ? authenticate({ ...deps.auth, attempts: failedAuthAttempts(deps.rateLimit, audit), audit })
    : unauthenticatedLocalBenchmark();
  const byPlan = (units?: Parameters<typeof limitByPlan>[1]) => (deps.gatewayChecks ? limitByPlan(deps.rateLimit, units) : pass);
  const budget = deps.gatewayChecks ? enforceBudget({ ...deps.budget, meter: deps.meter }) : pass;
  // A request refused before it is weighed (402, a bad body) still costs one unit, with the RateLimit
  // headers on its error: sending bad bodies is not free. A 403 comes first and costs nothing: it
  // reads no body, and a key must not spend its plan on what it was never allowed.
  const refusedCostsOne =
    (checks: MiddlewareHandler<EdgeEnv>): MiddlewareHandler<EdgeEnv> =>
    async (c, next) => {
      let passed = false;
      try {
        await checks(c, async () => {
          passed = true;
          await next();
        });
      } catch (err) {
        if (passed || !(err instanceof HttpError)) throw err;
        await byPlan()(c, async () => {
          throw err;
        });
      }
    };
  // The one gate of every route that runs a model: the caller, then every model the route runs (a
  // route must name them), the caller's monthly budget, then the body's bytes (`read`). An answer the
  // cache holds for those bytes is served from here, charged as one request (or its hit price): a hit
  // never parses the request. Otherwise `prepare` weighs it in units of work (models/units.ts), which
  // are charged against the caller's plan.
  const modelGate =
    (answerFromCache: ReturnType<typeof cachedAnswer>): ModelGate =>
    ({ models, read, prepare, units }) => {
      const weighed = every(refusedCostsOne(prepare), byPlan(units));
      const hitOrWeighed: MiddlewareHandler<EdgeEnv> = async (c, next) => {
        const hit = await answerFromCache(c);
        if (!hit) return weighed(c, next);
        await byPlan(() => hit.units)(c, async () => {
          c.res = hit.respond();
        });
      };
      return every(caller, authorize(models, audit), refusedCostsOne(every(budget, read)), hitOrWeighed);
    };
  // Every model-running route: its gate (skipped for a job's replay, which was gated and charged when
  // accepted; `read` and `prepare` still read the stored body), then async acceptance (202), then the
  // response cache, then the route's handler.
  const modelRoute =
    (jobBody: Parameters<typeof acceptJob>[1], describe: CacheDescription): ModelGate =>
    (route) =>
      every(
        replayable(modelGate(cachedAnswer(deps.cache, describe.bytes))(route), every(route.read, route.prepare)),
        acceptJob(deps.jobs, jobBody),
        responseCache(deps.cache, describe.bytes, describe.canonical),
      );
  const inferRoute = modelRoute(inferJobBody, { bytes: inferBytes, canonical: inferCanonical });
  const taskRoute = modelRoute(taskJobBody, { bytes: taskBytes(deps.registry), canonical: taskCanonical(deps.registry) });
  // Routes that need no credential (metadata, health, docs, playground: every GET outside /v1) are counted per address.
  const publicLimit = deps.gatewayChecks ? limitPublicByIp(deps.rateLimit) : pass;
  // Middleware, not a GET route: a route on '*' would tell the 405 rule that every path takes GET.
  app.use((c, next) =>
    (c.req.method === 'GET' || c.req.method === 'HEAD') && !new URL(c.req.url).pathname.startsWith('/v1/') ? publicLimit(c, next) : next(),
  );
  app.route(
    '/v2',
    v2Routes({
      ...deps,
      inferGuard: (read, prepare, units) => inferRoute({ models: (c) => [c.req.param('name') ?? ''], read, prepare, units }),
    }),
  );
  app.route('/v1', taskRoutes({ tasks: deps.tasks, meter: deps.meter, gate: taskRoute }));
  // Reading a job is authenticated but not charged against the plan: polling must not eat the limit.
  app.route('/v1', jobRoutes({ config: deps.jobs?.config, authenticate: caller }));
  // Reading usage runs no model: one unit against the plan.
  app.route('/v1', usageRoutes({ meter: deps.meter, authenticate: every(caller, byPlan()) }));
  app.route(
    '/',
    docsRoutes([...deps.registry.manifests.values()], () => openApiDocument(app)),
  );
  app.route('/', playgroundRoutes());
  app.notFound((c) => errorResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  // The log gets the fault's name and message; a stack trace names internals and stays out of logs too.
  app.onError((err, c) => {
    if (err instanceof ClientClosedRequest)
      deps.log(logLine('INFO', err.message, { event: 'client-gone', requestId: c.get('trace')?.requestId }));
    return errorResponse(err, (unexpected) => deps.log(logLine('ERROR', describeFault(unexpected), { event: 'unexpected-error' })));
  });
  return app;
}
