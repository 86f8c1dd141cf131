// `GET /v1/jobs/{id}`: a job as its owner sees it; any other credential gets the 404 an unknown id
// gets, so ids cannot be probed. `GET /v1/webhook-secret`: the caller's `whsec_` secret for
// verifying deliveries.

import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ModelUnavailable, NotFound } from '../../protocol/errors.ts';
import { jobIdPattern } from '../../protocol/jobs.ts';
import type { EdgeEnv } from '../context.ts';
import { apiRoutes, authenticated, errorResponse, gatewayErrors, jsonResponse, schemas } from '../openapi.ts';
import type { JobsConfig } from './config.ts';
import { jobObjects } from './job-object-api.ts';
import { jobViewJson } from './job-view.ts';
import { ownerWebhookSecret } from './webhook.ts';

export interface JobRoutesDeps {
  config: JobsConfig | undefined;
  /** Authentication (a read is not charged against the plan: polling must not eat the caller's limit). */
  authenticate: MiddlewareHandler<EdgeEnv>;
}

const WebhookSecret = z.object({ secret: z.string() });

export function jobRoutes({ config, authenticate }: JobRoutesDeps): OpenAPIHono<EdgeEnv> {
  const routes = apiRoutes<EdgeEnv>();
  const jobRoute = createRoute({
    method: 'get',
    path: '/jobs/{id}',
    summary: 'An async job: queued, running, succeeded (with the synchronous answer as result) or failed (with error)',
    security: authenticated,
    request: { params: z.object({ id: z.string().openapi({ param: { description: 'the id the 202 named' } }) }) },
    responses: {
      200: jsonResponse(schemas.Job, 'the job; kept for JOB_RESULT_TTL_MS (24 h by default) after it finished'),
      404: errorResponse("no such job for this credential (another key's job answers the same)"),
      401: gatewayErrors[401],
    },
  });
  // Described in the OpenAPI document, served as a plain route: the answer is the JSON text
  // job-view.ts spliced (a megabyte result is not parsed to be serialised again), which the typed
  // handler of `.openapi()` would only take as an object.
  routes.openAPIRegistry.registerPath(jobRoute);
  routes.get('/jobs/:id', authenticate, async (c) => {
    const id = c.req.param('id');
    const notFound = new NotFound(`no job '${id}'`);
    if (!config || !jobIdPattern.test(id)) throw notFound;
    const { records, data } = config.bindings;
    const view = await records.get(records.idFromName(id)).view();
    if (!view || view.record.principal.id !== c.get('principal').id) throw notFound;
    const { record } = view;
    const result = record.status === 'succeeded' ? (view.result ?? (await (await data.get(jobObjects.result(id)))?.text())) : undefined;
    return c.body(jobViewJson(record, result), 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  });
  const secretRoute = createRoute({
    method: 'get',
    path: '/webhook-secret',
    summary: "The caller's whsec_ secret, which signs its jobs' webhook deliveries",
    security: authenticated,
    middleware: [authenticate],
    responses: {
      200: jsonResponse(WebhookSecret, 'the secret'),
      401: gatewayErrors[401],
      503: errorResponse('webhooks are not configured here (WEBHOOK_SIGNING_SECRET)'),
    },
  });
  routes.openapi(secretRoute, async (c) => {
    const signingSecret = config?.webhooks.signingSecret;
    if (!signingSecret) throw new ModelUnavailable('webhooks are not available here: the edge has no WEBHOOK_SIGNING_SECRET');
    return c.json({ secret: await ownerWebhookSecret(signingSecret, c.get('principal').owner) }, 200, { 'cache-control': 'no-store' });
  });
  return routes;
}
