// Async jobs' configuration and bindings, parsed once with zod from the Worker's environment (the same
// `env` edge/config.ts reads; the job's Durable Object parses it too, in its own isolate).

import { z } from 'zod';
import { ConfigError } from '../config.ts';
import type { JobBindings } from './bindings.ts';
import type { JobPolicy } from './job-state.ts';

const Milliseconds = z.coerce.number().int().positive();
const Seconds = z.coerce.number().int().positive();
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

// A fixed secret for local development only (BACKEND_URL on loopback): `npm start` signs webhooks
// without setup. A deployment without WEBHOOK_SIGNING_SECRET refuses webhooks instead.
const localWebhookSecret = 'edgeinfer-local-development-webhook-signing-secret';

const Environment = z.object({
  BACKEND_URL: z.string().optional(),
  JOB_DEADLINE_MS: Milliseconds.default(15 * 60_000),
  JOB_RESULT_TTL_MS: Milliseconds.default(24 * 60 * 60_000),
  JOB_WATCHDOG_MS: Milliseconds.default(2 * 60_000),
  JOB_RETRY_BASE_SECONDS: Seconds.default(2),
  JOB_RETRY_MAX_SECONDS: Seconds.default(60),
  WEBHOOK_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
});

export interface JobsConfig {
  policy: JobPolicy;
  bindings: JobBindings;
  webhooks: {
    /** Each owner's `whsec_` secret is derived from this; undefined: webhooks are refused. */
    signingSecret: string | undefined;
    /** Plain http targets: only in local development. */
    allowHttp: boolean;
  };
}

const hasMethods = (binding: unknown, ...names: string[]) =>
  typeof binding === 'object' &&
  binding !== null &&
  names.every((name) => typeof (binding as Record<string, unknown>)[name] === 'function');

/** Every variable the jobs' configuration reads (.dev.vars.example lists them; a test checks it). */
export const jobsVariableNames: readonly string[] = Object.keys(Environment.shape);

export function parseJobsConfig(env: Env | Readonly<Record<string, unknown>>): JobsConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => typeof value === 'string' && value !== ''));
  const parsed = Environment.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `  ${String(issue.path[0])}: ${issue.message}`);
  if (!hasMethods(env.JOB_QUEUE, 'send')) problems.push('  JOB_QUEUE: must be a Queue producer binding ([[queues.producers]])');
  if (!hasMethods(env.JOB_DATA, 'put', 'get', 'delete')) problems.push('  JOB_DATA: must be an R2 bucket binding ([[r2_buckets]])');
  if (!hasMethods(env.JOBS, 'idFromName', 'get')) problems.push('  JOBS: must be a Durable Object binding ([[durable_objects.bindings]])');
  if (!parsed.success || problems.length > 0) throw new ConfigError(`invalid jobs configuration:\n${problems.join('\n')}`);
  const e = parsed.data;
  const local = e.BACKEND_URL !== undefined && URL.canParse(e.BACKEND_URL) && loopbackHosts.has(new URL(e.BACKEND_URL).hostname);
  return {
    policy: {
      deadlineMs: e.JOB_DEADLINE_MS,
      resultTtlMs: e.JOB_RESULT_TTL_MS,
      watchdogMs: e.JOB_WATCHDOG_MS,
      retryBaseSeconds: e.JOB_RETRY_BASE_SECONDS,
      retryMaxSeconds: e.JOB_RETRY_MAX_SECONDS,
    },
    bindings: {
      queue: env.JOB_QUEUE as JobBindings['queue'],
      data: env.JOB_DATA as JobBindings['data'],
      records: env.JOBS as JobBindings['records'],
    },
    webhooks: { signingSecret: e.WEBHOOK_SIGNING_SECRET ?? (local ? localWebhookSecret : undefined), allowHttp: local },
  };
}
