// wrangler.toml's [env.*] sections, written from infra/deploy.json between two marker lines, so the
// Worker's deployed vars and bindings have one source; a check says when the file has drifted from it.

import { type DeploySettings, type Environment, edgeVars } from './settings.ts';

const begin = '# --- generated from infra/deploy.json ---';
const end = '# --- end of generated ---';

const quote = (value: string) => JSON.stringify(value);

/** The metering and jobs queues, the jobs' Durable Object and R2 bucket, and D1 when metering uses it. */
function bindings(name: string, edge: Environment['edge']): string[] {
  const suffix = edge.resourceSuffix;
  return [
    `[[env.${name}.queues.producers]]`,
    'binding = "METERING_QUEUE"',
    `queue = ${quote(`edgeinfer-metering${suffix}`)}`,
    '',
    `[[env.${name}.queues.consumers]]`,
    `queue = ${quote(`edgeinfer-metering${suffix}`)}`,
    'max_batch_size = 100',
    'max_batch_timeout = 1',
    'max_retries = 100',
    `dead_letter_queue = ${quote(`edgeinfer-metering-dlq${suffix}`)}`,
    '',
    `[[env.${name}.queues.producers]]`,
    'binding = "JOB_QUEUE"',
    // edge/worker.ts tells the jobs queue from the metering queue by this name's `edgeinfer-jobs` prefix.
    `queue = ${quote(`edgeinfer-jobs${suffix}`)}`,
    '',
    `[[env.${name}.queues.consumers]]`,
    `queue = ${quote(`edgeinfer-jobs${suffix}`)}`,
    'max_batch_size = 10',
    'max_batch_timeout = 1',
    'max_retries = 100',
    '',
    `[[env.${name}.r2_buckets]]`,
    'binding = "JOB_DATA"',
    `bucket_name = ${quote(`edgeinfer-jobs${suffix}`)}`,
    '',
    `[[env.${name}.durable_objects.bindings]]`,
    'name = "JOBS"',
    'class_name = "JobObject"',
    '',
    ...(edge.usageDatabaseId
      ? [
          `[[env.${name}.d1_databases]]`,
          'binding = "USAGE_DB"',
          `database_name = ${quote(`edgeinfer-usage${suffix}`)}`,
          `database_id = ${quote(edge.usageDatabaseId)}`,
          '',
        ]
      : []),
  ];
}

export function renderEnvironments(settings: DeploySettings): string {
  return Object.entries(settings.environments)
    .map(([name, env]) =>
      [
        `[env.${name}]`,
        `name = ${quote(env.edge.workerName)}`,
        '',
        `[env.${name}.vars]`,
        ...Object.entries(edgeVars(env)).map(([key, value]) => `${key} = ${quote(value)}`),
        '',
        `[[env.${name}.kv_namespaces]]`,
        'binding = "API_KEYS"',
        `id = ${quote(env.edge.apiKeysNamespaceId)}`,
        '',
        ...bindings(name, env.edge),
      ].join('\n'),
    )
    .join('\n');
}

function generatedRange(toml: string): { start: number; stop: number } {
  const start = toml.indexOf(begin);
  const stop = toml.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`wrangler.toml has no "${begin}" … "${end}" section`);
  return { start: start + begin.length + 1, stop };
}

/** wrangler.toml with its generated section replaced by what infra/deploy.json says. */
export function withEnvironments(toml: string, settings: DeploySettings): string {
  const { start, stop } = generatedRange(toml);
  return `${toml.slice(0, start)}${renderEnvironments(settings)}${toml.slice(stop)}`;
}

export function environmentsInSync(toml: string, settings: DeploySettings): boolean {
  return withEnvironments(toml, settings) === toml;
}
