// The queue consumer: runs an accepted job by replaying its request through the app's own route (the
// same handler, metering included, so the result is the synchronous answer), and delivers finished
// jobs to their webhooks. A backend that is cold or down sends the job back with a backoff until its
// deadline; every other answer finishes it. Each step is recorded in the job's Durable Object first,
// so a runner that dies mid-way leaves a job its alarm will dispatch again.

import { ErrorResponse } from '../../protocol/schemas.ts';
import type { JobMessage, QueueBatch, QueueMessage } from './bindings.ts';
import type { JobsConfig } from './config.ts';
import { inlineBytesMax, jobObjects } from './job-object-api.ts';
import { type JobRecord, retryDelaySeconds, webhookPending } from './job-state.ts';
import { jobViewJson } from './job-view.ts';
import { replayRequest } from './replay.ts';
import { deliverWebhook, ownerWebhookSecret } from './webhook.ts';

/** Answers that mean the work could not be done yet (backend cold, down or overloaded): tried again. */
const notYet = new Set([502, 503, 504]);

export interface JobConsumerDeps {
  config: JobsConfig;
  /** The app's own fetch: a replay runs through the same routes as a caller's request. */
  fetch: (request: Request) => Promise<Response>;
  now: () => number;
  log: (line: string) => void;
  /** Where webhooks are POSTed from; the global fetch in the Worker. */
  webhookFetch?: typeof fetch;
}

type Outcome = { retryInSeconds?: number };

function errorText(status: number, text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const body = ErrorResponse.safeParse(parsed);
  return `${status}: ${body.success ? body.data.error : 'the route answered without an error message'}`;
}

async function runJob(jobId: string, deps: JobConsumerDeps): Promise<Outcome> {
  const { records, data, queue } = deps.config.bindings;
  const store = records.get(records.idFromName(jobId));
  const claimed = await store.claim(deps.now());
  if (claimed.action === 'skip') return {};
  let finished: JobRecord;
  if (claimed.action === 'failed') finished = claimed.record;
  else {
    const record = claimed.record;
    const body = claimed.requestBody ?? (await (await data.get(jobObjects.request(jobId)))?.arrayBuffer());
    if (!body) finished = await store.finish(deps.now(), "the job's request is no longer stored");
    else {
      const response = await deps.fetch(replayRequest(record, body));
      const text = await response.text();
      if (response.ok) {
        const inline = new TextEncoder().encode(text).byteLength <= inlineBytesMax;
        if (!inline) await data.put(jobObjects.result(jobId), text);
        finished = await store.finish(deps.now(), undefined, inline ? text : undefined);
      } else if (notYet.has(response.status)) {
        const released = await store.release(deps.now(), errorText(response.status, text));
        if (released.action === 'retry') return { retryInSeconds: released.delaySeconds };
        finished = released.record;
      } else finished = await store.finish(deps.now(), errorText(response.status, text));
    }
  }
  deps.log(JSON.stringify({ event: 'job-finished', jobId, status: finished.status, attempts: finished.attempts }));
  if (finished.webhook) await queue.send({ kind: 'deliver', jobId });
  return {};
}

async function deliverJob(jobId: string, deps: JobConsumerDeps): Promise<Outcome> {
  const { records, data } = deps.config.bindings;
  const store = records.get(records.idFromName(jobId));
  const view = await store.view();
  const signingSecret = deps.config.webhooks.signingSecret;
  if (!view || !webhookPending(view.record) || !signingSecret) return {};
  const { record } = view;
  const result = record.status === 'succeeded' ? (view.result ?? (await (await data.get(jobObjects.result(jobId)))?.text())) : undefined;
  const secret = await ownerWebhookSecret(signingSecret, record.principal.owner);
  const error = await deliverWebhook(
    { url: record.webhook!.url, secret },
    jobId,
    jobViewJson(record, result),
    deps.now() / 1000,
    deps.webhookFetch,
  );
  const updated = await store.webhookAttempted(deps.now(), error);
  deps.log(JSON.stringify({ event: 'webhook-attempt', jobId, attempt: updated.webhook!.attempts, error }));
  return error === undefined ? {} : { retryInSeconds: retryDelaySeconds(updated.webhook!.attempts, deps.config.policy) };
}

async function consume(message: QueueMessage<JobMessage>, deps: JobConsumerDeps): Promise<void> {
  try {
    const { kind, jobId } = message.body;
    const outcome = kind === 'run' ? await runJob(jobId, deps) : await deliverJob(jobId, deps);
    if (outcome.retryInSeconds === undefined) message.ack();
    else message.retry({ delaySeconds: outcome.retryInSeconds });
  } catch (err) {
    // A Durable Object or R2 that did not answer: the message comes back; the record is unchanged.
    deps.log(JSON.stringify({ event: 'job-message-failed', message: message.body, error: (err as Error).message }));
    message.retry({ delaySeconds: deps.config.policy.retryBaseSeconds });
  }
}

export async function consumeJobs(batch: QueueBatch<JobMessage>, deps: JobConsumerDeps): Promise<void> {
  await Promise.all(batch.messages.map((message) => consume(message, deps)));
}
