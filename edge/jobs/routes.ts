// `GET /v1/jobs/{id}`: a job as its owner sees it; any other credential gets the 404 an unknown id
// gets, so ids cannot be probed. `GET /v1/webhook-secret`: the caller's `whsec_` secret for
// verifying deliveries.

import { Hono, type MiddlewareHandler } from 'hono';
import { NotFound, ModelUnavailable } from '../../protocol/errors.ts';
import { jobIdPattern } from '../../protocol/jobs.ts';
import type { EdgeEnv } from '../context.ts';
import type { JobsConfig } from './config.ts';
import { jobObjects } from './job-object-api.ts';
import { jobViewJson } from './job-view.ts';
import { ownerWebhookSecret } from './webhook.ts';

export interface JobRoutesDeps {
  config: JobsConfig | undefined;
  /** Authentication (a read is not charged against the plan: polling must not eat the caller's limit). */
  authenticate: MiddlewareHandler<EdgeEnv>;
}

export function jobRoutes({ config, authenticate }: JobRoutesDeps): Hono<EdgeEnv> {
  const routes = new Hono<EdgeEnv>();
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
  routes.get('/webhook-secret', authenticate, async (c) => {
    const signingSecret = config?.webhooks.signingSecret;
    if (!signingSecret) throw new ModelUnavailable('webhooks are not available here: the edge has no WEBHOOK_SIGNING_SECRET');
    return c.json({ secret: await ownerWebhookSecret(signingSecret, c.get('principal').owner) }, 200, { 'cache-control': 'no-store' });
  });
  return routes;
}
