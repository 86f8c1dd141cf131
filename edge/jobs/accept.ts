// `Prefer: respond-async` (RFC 7240) on a model-running route: after the gate (authenticated, model
// allowed, plan charged), the request is stored (body in R2, record in the job's Durable Object) and
// answered 202 with its Location at once. The queue carries it to edge/jobs/consumer.ts.

import type { Context, MiddlewareHandler } from 'hono';
import { InvalidInput } from '../../protocol/errors.ts';
import { type JobAccepted, jobPath, prefersRespondAsync, webhookRequestHeader } from '../../protocol/jobs.ts';
import type { EdgeEnv } from '../context.ts';
import type { JobsConfig } from './config.ts';
import { inlineBytesMax, jobObjects } from './job-object-api.ts';
import { newJobRecord } from './job-state.ts';
import { replayedHeaders, replayOf } from './replay.ts';

export interface JobsDeps {
  config: JobsConfig;
  now: () => number;
  log: (line: string) => void;
}

export function newJobId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `job_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function webhookUrl(c: Context<EdgeEnv>, webhooks: JobsConfig['webhooks']): string | undefined {
  const given = c.req.header(webhookRequestHeader);
  if (given === undefined) return undefined;
  if (!webhooks.signingSecret) throw new InvalidInput('webhooks are not available here: the edge has no WEBHOOK_SIGNING_SECRET');
  const url = URL.canParse(given) ? new URL(given) : undefined;
  const allowed = webhooks.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!url || !allowed.includes(url.protocol) || url.username || url.password)
    throw new InvalidInput(`${webhookRequestHeader} must be an ${webhooks.allowHttp ? 'http(s)' : 'https'} URL without credentials`);
  return url.href;
}

/**
 * `readBody` gives the request's bytes, checked as the synchronous route would check them (a bad
 * request is refused now, not when the job runs).
 */
export function acceptJob(
  deps: JobsDeps | undefined,
  readBody: (c: Context<EdgeEnv>) => Promise<Uint8Array> | Uint8Array,
): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    if (!deps || !prefersRespondAsync(c.req.header('prefer')) || replayOf(c.req.raw)) return next();
    const { bindings, policy, webhooks } = deps.config;
    const webhook = webhookUrl(c, webhooks);
    const body = await readBody(c);
    const id = newJobId();
    const url = new URL(c.req.url);
    const headers = replayedHeaders.flatMap((name) => {
      const value = c.req.header(name);
      return value === undefined ? [] : [[name, value] as [string, string]];
    });
    const record = newJobRecord(
      { id, principal: c.get('principal'), request: { path: url.pathname + url.search, headers }, webhookUrl: webhook },
      deps.now(),
      policy,
    );
    // Both written before the 202: an accepted job exists durably. The record's alarm dispatches it
    // should the queue message below be lost.
    const store = bindings.records.get(bindings.records.idFromName(id));
    if (body.byteLength <= inlineBytesMax) await store.create(record, body);
    else await Promise.all([bindings.data.put(jobObjects.request(id), body), store.create(record, undefined)]);
    c.executionCtx.waitUntil(
      bindings.queue
        .send({ kind: 'run', jobId: id })
        .catch((err: Error) => deps.log(JSON.stringify({ event: 'job-dispatch-failed', jobId: id, error: err.message }))),
    );
    const accepted: JobAccepted = { id, status: 'queued' };
    return c.json(accepted, 202, { Location: jobPath(id), 'Preference-Applied': 'respond-async' });
  };
}
