// Assembles the edge Worker: middleware order and routes, nothing else.

import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { errorResponse, HttpError, NotFound } from '../protocol/errors.ts';
import type { EdgeInference } from './inference.ts';
import type { ModelRegistry } from './registry.ts';
import type { EdgeEnv } from './context.ts';
import { authenticate, type AuthOptions, requireModelAccess } from './auth/middleware.ts';
import { type BudgetOptions, enforceBudget } from './middleware/budget.ts';
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
  const budget = enforceBudget({ ...deps.budget, meter: deps.meter });
  // Reading usage runs no model: one unit against the plan.
  const guard = () =>
    deps.gatewayChecks ? every(failedAuthByIp, authenticate(deps.auth), limitByPlan(deps.rateLimit)) : unauthenticatedLocalBenchmark();
  // A request that runs a model is charged in units of work (models/units.ts), known once `prepare`
  // has read and weighed its body: a batch, seconds of audio or megapixels cost what they hold.
  // A request refused before it is weighed (403, 402, a bad body) still costs one unit, with the
  // RateLimit headers on its error: sending bad bodies is not free.
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
        await limitByPlan(deps.rateLimit)(c, async () => {
          throw err;
        });
      }
    };
  const weighedGuard =
    (...before: MiddlewareHandler<EdgeEnv>[]) =>
    (prepare: MiddlewareHandler<EdgeEnv>, units: (c: Context<EdgeEnv>) => number) =>
      deps.gatewayChecks
        ? every(
            failedAuthByIp,
            authenticate(deps.auth),
            refusedCostsOne(every(...before, budget, prepare)),
            limitByPlan(deps.rateLimit, units),
          )
        : every(unauthenticatedLocalBenchmark(), prepare);
  app.route('/v2', v2Routes({ ...deps, inferGuard: weighedGuard(requireModelAccess()) }));
  app.route('/v1', taskRoutes({ tasks: deps.tasks, meter: deps.meter, guard: weighedGuard() }));
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
