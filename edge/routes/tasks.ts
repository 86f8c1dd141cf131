// `POST /v1/vad` and `POST /v1/ocr` at the edge: the file read within the task's limits, its header
// checked and weighed, the caller's rate limit charged by that weight, then the task run here or on
// the backend (edge/tasks.ts) and metered. Handlers only translate; errors are thrown typed.
//
// The body and its options (query string for a raw file, `options` in JSON) are read by the task's own
// reader, not a validator: it stops at the task's byte limit before anything is parsed, and the same
// reader runs on the backend. The routes are still declared with createRoute, from the same schemas,
// so /openapi.json describes them.

import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { mediaType } from '../../protocol/body.ts';
import { edgeRequestLimits } from '../../protocol/edge-limits.ts';
import { UnsupportedMediaType } from '../../protocol/errors.ts';
import { providerHeader, tierHeader } from '../../protocol/tasks.ts';
import { maxTaskBodyBytes, readTaskRequest } from '../../models/tasks/task-request.ts';
import { TaskTimings } from '../../models/tasks/timings.ts';
import { ocr, taskUnits, type TaskDefinition, tasks, vad } from '../../models/tasks/tasks.ts';
import { ocrTask, vadTask } from '../../models/tasks/catalog.ts';
import type { ModelGate } from '../auth/middleware.ts';
import type { EdgeEnv } from '../context.ts';
import { readEdgeBody } from '../middleware/body-limit.ts';
import type { UsageMeter } from '../metering.ts';
import type { EdgeTasks } from '../tasks.ts';
import {
  acceptedResponse,
  apiRoutes,
  authenticated,
  errorResponse,
  formatBytes,
  gatewayErrors,
  modelRunParameters,
  queryParameters,
  schemas,
} from '../openapi.ts';

export interface TaskRoutesDeps {
  tasks: EdgeTasks;
  meter: UsageMeter;
  /**
   * Authentication, authorization for every model of the task's pipeline (its manifest names them),
   * then `read` (the bytes) and `prepare` (which checks and weighs them), then the rate limit charged
   * with the units `prepare` found: a caller is identified and authorized before its body is read,
   * and counted by the work the body holds.
   */
  gate: ModelGate;
}

/** Reads a task request's bytes within the edge's limits; nothing parses them yet. */
function readTask(definition: TaskDefinition<z.ZodType, unknown>): MiddlewareHandler<EdgeEnv> {
  const accepted = [...definition.rawTypes, 'application/json'];
  return async (c, next) => {
    const contentType = c.req.header('content-type');
    const type = mediaType(contentType);
    if (!type || !accepted.includes(type)) throw new UnsupportedMediaType(type, accepted);
    const body = await readEdgeBody(
      c.req.raw,
      type === 'application/json'
        ? {
            routeBytes: maxTaskBodyBytes(definition.limits),
            edgeBytes: edgeRequestLimits.taskJsonBytes,
            advice: `send fewer files per request, or each file as raw bytes (up to ${edgeRequestLimits.taskRawBytes} bytes)`,
          }
        : {
            routeBytes: definition.limits.maxFileBytes,
            edgeBytes: edgeRequestLimits.taskRawBytes,
            advice: 'send a shorter recording or a smaller image',
          },
    );
    c.set('taskRead', { definition, original: { body, contentType: type, search: new URL(c.req.url).search } });
    await next();
  };
}

/** Checks and weighs the bytes `readTask` read before anything heavy runs. */
const prepareTask: MiddlewareHandler<EdgeEnv> = async (c, next) => {
  const { definition, original } = c.get('taskRead');
  const request = readTaskRequest(original.body, c.req.header('content-type'), c.req.query(), {
    rawTypes: definition.rawTypes,
    limits: definition.limits,
    options: definition.options,
  });
  const works = request.files.map((file) => definition.inspect(file));
  c.set('task', { definition, request, works, original });
  await next();
};

/** What /openapi.json says of each task: its summary, what its files may be, and its 400s and 413s. */
const documentation = {
  vad: {
    summary: 'Speech segments of a WAV recording',
    accepts: () =>
      `PCM 16-bit or 32-bit float WAV, mono or more channels (mixed down), 8 to 48 kHz, up to ${vadTask.limits.maxAudioSeconds} seconds and ${formatBytes(vad.limits.maxFileBytes)} per file, at most ${vad.limits.maxBatchFiles} files per batch. Options as query parameters with a raw body, or in the options field of JSON.`,
    badInput: 'empty body, a truncated or inconsistent WAV header, a sample rate outside 8–48 kHz, bad base64 or options',
    tooLarge: 'a file, recording or batch over the limits',
    schemas: { request: 'VadRequest', one: schemas.VadResponse, batch: schemas.VadBatchResponse },
  },
  ocr: {
    summary: 'Text lines in a PNG or JPEG image',
    accepts: () =>
      `Up to ${ocrTask.limits.maxPixels.toLocaleString('en-US')} pixels (checked from the header before decoding) and ${formatBytes(ocr.limits.maxFileBytes)} per file, at most ${ocr.limits.maxBatchFiles} files per batch.`,
    badInput: 'empty body, bytes that are not a PNG or JPEG, a truncated image, bad base64',
    tooLarge: 'a file, image (pixels) or batch over the limits',
    schemas: { request: 'OcrRequest', one: schemas.OcrResponse, batch: schemas.OcrBatchResponse },
  },
};

function taskRoute(definition: TaskDefinition<z.ZodType, unknown>, guard: MiddlewareHandler<EdgeEnv>) {
  const doc = documentation[definition.name];
  const raw = Object.fromEntries(definition.rawTypes.map((type) => [type, { schema: z.string().openapi({ format: 'binary' }) }]));
  return createRoute({
    method: 'post',
    path: `/${definition.name}`,
    summary: doc.summary,
    description: `${doc.accepts()} The answer says where it ran in x-edgeinfer-tier (edge or gpu) and which model versions answered in models; it carries x-request-id. A request counts against the rate limit by its work.`,
    security: authenticated,
    middleware: [guard],
    parameters: [...(definition.options instanceof z.ZodObject ? queryParameters(definition.options) : []), ...modelRunParameters],
    request: {
      body: {
        required: true,
        // A JSON schema object, not the zod schema itself, so no validator reads the body (see above).
        content: { ...raw, 'application/json': { schema: { $ref: `#/components/schemas/${doc.schemas.request}` } } },
      },
    },
    responses: {
      200: {
        description: 'one result for a file; results, one per file in order, for a batch',
        content: { 'application/json': { schema: z.union([doc.schemas.one, doc.schemas.batch]) } },
      },
      ...acceptedResponse,
      400: errorResponse(doc.badInput),
      402: errorResponse("the caller's monthly budget is spent"),
      403: errorResponse('a valid credential that may not run every model of this task'),
      413: errorResponse(
        `${doc.tooLarge}; through the edge, a raw file over ${formatBytes(edgeRequestLimits.taskRawBytes)} or a JSON body over ${formatBytes(edgeRequestLimits.taskJsonBytes)}; or more work than the plan allows in a whole window`,
      ),
      415: errorResponse(`content type other than ${definition.rawTypes.join(', ')} or application/json, or an unsupported encoding`),
      ...gatewayErrors,
    },
  });
}

export function taskRoutes(deps: TaskRoutesDeps): OpenAPIHono<EdgeEnv> {
  const routes = apiRoutes<EdgeEnv>();
  for (const definition of Object.values(tasks) as TaskDefinition<z.ZodType, unknown>[]) {
    routes.openapi(
      taskRoute(
        definition,
        deps.gate({
          models: () => definition.models,
          read: readTask(definition),
          prepare: prepareTask,
          units: (c) => taskUnits(definition, c.get('task').works),
        }),
      ),
      async (c) => {
        const task = c.get('task');
        const timings = new TaskTimings();
        const startedMs = performance.now();
        const outcome = await deps.tasks.run(task, c.get('trace'), timings);
        const computeMs = performance.now() - startedMs;
        const unit = task.works[0]!.unit;
        // Recorded after the answer, off its path; the headers say what it cost.
        const charged = deps.meter.charge(
          c.get('principal'),
          {
            model: `task:${definition.name}`,
            tier: outcome.tier,
            units: taskUnits(definition, task.works, outcome.gpuRunMs),
            inputElements: 0,
            computeMs,
            work: { unit, amount: task.works.reduce((sum, work) => sum + work.amount, 0) },
          },
          (work) => c.executionCtx.waitUntil(work),
        );
        // A forwarded task is timed by the backend, stage by stage; the edge adds its own total.
        const serverTiming = outcome.serverTiming
          ? `${outcome.serverTiming}, edge;dur=${computeMs.toFixed(3)}`
          : timings.serverTiming(computeMs);
        return c.json(outcome.body as object, 200, {
          ...charged,
          [tierHeader]: outcome.tier,
          [providerHeader]: outcome.provider,
          'Server-Timing': serverTiming,
        });
      },
    );
  }
  return routes;
}
