// `POST /v1/vad` and `POST /v1/ocr` on the backend: what the edge forwards when a task does not run
// there, signed like every inference route (checked in app.ts before the body is read), read and checked
// against the same task manifests.

import { signRunTime } from '../../protocol/run-time.ts';
import { type Context, Hono } from 'hono';
import type { z } from 'zod';
import { mediaType } from '../../protocol/body.ts';
import { UnsupportedMediaType } from '../../protocol/errors.ts';
import { providerHeader, tierHeader } from '../../protocol/tasks.ts';
import { maxTaskBodyBytes, readTaskRequest } from '../../models/tasks/task-request.ts';
import { type TaskDefinition, tasks } from '../../models/tasks/tasks.ts';
import { TaskTimings } from '../../models/tasks/timings.ts';
import type { BackendDeps } from '../context.ts';
import { type BackendEnv, bufferedBody } from '../middleware/body.ts';
import { providerOf } from './v2.ts';

/** The media type, refused before the body is read when the task does not take it. */
function acceptedType(c: Context<BackendEnv>, definition: TaskDefinition<z.ZodType, unknown>): string {
  const accepted = [...definition.rawTypes, 'application/json'];
  const type = mediaType(c.req.header('content-type'));
  if (!type || !accepted.includes(type)) throw new UnsupportedMediaType(type, accepted);
  return type;
}

export function taskRoutes(deps: Pick<BackendDeps, 'tasks' | 'runtime' | 'registry' | 'signatureSecrets'>): Hono<BackendEnv> {
  const routes = new Hono<BackendEnv>();
  for (const definition of Object.values(tasks) as TaskDefinition<z.ZodType, unknown>[]) {
    const path = `/${definition.name}`;
    routes.post(
      path,
      bufferedBody({
        maxBytes: (c) =>
          acceptedType(c, definition) === 'application/json' ? maxTaskBodyBytes(definition.limits) : definition.limits.maxFileBytes,
      }),
      async (c) => {
        for (const name of definition.models) deps.runtime.ensureReady(deps.registry.resolve(name));
        const request = readTaskRequest(c.get('body'), c.req.header('content-type'), c.req.query(), {
          rawTypes: definition.rawTypes,
          limits: definition.limits,
          options: definition.options,
        });
        for (const file of request.files) definition.inspect(file);
        const timings = new TaskTimings();
        const startedMs = performance.now();
        // Aborted when the caller hangs up: a recording's scan stops at its next turn (session-worker.ts).
        const body = await deps.tasks.run(definition, request, timings, c.req.raw.signal);
        const runMs = performance.now() - startedMs;
        // The edge bills GPU work by this time, so it trusts it only signed (protocol/run-time.ts).
        const requestId = c.req.header('x-request-id');
        const runTimeSecret = deps.signatureSecrets?.[0];
        const runTime = runTimeSecret && requestId ? await signRunTime(runTimeSecret, requestId, runMs) : {};
        // A pipeline's models load with the same providers; its first model's says what it ran on.
        const provider = providerOf(deps.runtime, deps.registry.resolve(definition.models[0]!));
        return c.json(body as object, 200, {
          [tierHeader]: 'gpu',
          [providerHeader]: provider,
          'Server-Timing': timings.serverTiming(runMs),
          ...runTime,
        });
      },
    );
  }
  return routes;
}
