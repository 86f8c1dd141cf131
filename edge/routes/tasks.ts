// `POST /v1/vad` and `POST /v1/ocr` at the edge: the file read within the task's limits, its header
// checked and weighed, the caller's rate limit charged by that weight, then the task run here or on
// the backend (edge/tasks.ts) and metered. Handlers only translate; errors are thrown typed.

import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { mediaType, readBodyWithLimit } from '../../protocol/body.ts';
import { UnsupportedMediaType } from '../../protocol/errors.ts';
import { tierHeader } from '../../protocol/tasks.ts';
import { maxTaskBodyBytes, readTaskRequest } from '../../models/tasks/task-request.ts';
import { TaskTimings } from '../../models/tasks/timings.ts';
import { rateLimitUnits, type TaskDefinition, tasks } from '../../models/tasks/tasks.ts';
import type { EdgeEnv } from '../context.ts';
import type { UsageMeter } from '../metering.ts';
import type { EdgeTasks } from '../tasks.ts';

export interface TaskRoutesDeps {
  tasks: EdgeTasks;
  meter: UsageMeter;
  /**
   * Authentication, then `prepare` (which reads and weighs the request), then the rate limit charged
   * with the units `prepare` found: a caller is identified before its body is read, and counted by
   * the work the body holds.
   */
  guard: (prepare: MiddlewareHandler<EdgeEnv>, units: (c: Context<EdgeEnv>) => number) => MiddlewareHandler<EdgeEnv>;
}

/** Reads, checks and weighs a task request before anything heavy runs. */
function prepareTask(definition: TaskDefinition<z.ZodType, unknown>): MiddlewareHandler<EdgeEnv> {
  const accepted = [...definition.rawTypes, 'application/json'];
  return async (c, next) => {
    const contentType = c.req.header('content-type');
    const type = mediaType(contentType);
    if (!type || !accepted.includes(type)) throw new UnsupportedMediaType(type, accepted);
    const maxBytes = type === 'application/json' ? maxTaskBodyBytes(definition.limits) : definition.limits.maxFileBytes;
    const body = await readBodyWithLimit(c.req.raw, maxBytes);
    const request = readTaskRequest(body, contentType, c.req.query(), {
      rawTypes: definition.rawTypes,
      limits: definition.limits,
      options: definition.options,
    });
    const works = request.files.map((file) => definition.inspect(file));
    c.set('task', { definition, request, works, original: { body, contentType: type, search: new URL(c.req.url).search } });
    await next();
  };
}

export function taskRoutes(deps: TaskRoutesDeps): Hono<EdgeEnv> {
  const routes = new Hono<EdgeEnv>();
  for (const definition of Object.values(tasks) as TaskDefinition<z.ZodType, unknown>[]) {
    const path = `/${definition.name}`;
    routes.post(
      path,
      deps.guard(prepareTask(definition), (c) => rateLimitUnits(definition, c.get('task').works)),
      async (c) => {
        const task = c.get('task');
        const timings = new TaskTimings();
        const startedMs = performance.now();
        const outcome = await deps.tasks.run(task, c.get('trace'), timings);
        const computeMs = performance.now() - startedMs;
        const unit = task.works[0]!.unit;
        c.executionCtx.waitUntil(
          deps.meter.record({
            keyId: c.get('principal').id,
            atMs: Date.now(),
            inputElements: 0,
            computeMs,
            tier: outcome.tier,
            work: { unit, amount: task.works.reduce((sum, work) => sum + work.amount, 0) },
          }),
        );
        // A forwarded task is timed by the backend, stage by stage; the edge adds its own total.
        const serverTiming = outcome.serverTiming
          ? `${outcome.serverTiming}, edge;dur=${computeMs.toFixed(3)}`
          : timings.serverTiming(computeMs);
        return c.json(outcome.body as object, 200, { [tierHeader]: outcome.tier, 'Server-Timing': serverTiming });
      },
    );
  }
  return routes;
}
