// infra/deploy.json, parsed once with zod: each environment's edge (Worker name, KV id, vars) and
// backend (project, region, service, GPU, CPU, memory, concurrency, instances). The edge's vars it does
// not list are derived here: BACKEND_URL from the backend's URL, GOOGLE_CLOUD_PROJECT from its project.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const Edge = z.object({
  workerName: z.string().regex(/^[a-z0-9-]+$/),
  apiKeysNamespaceId: z.string().min(1),
  /**
   * Appended to the names of the environment's queues and R2 bucket (e.g. `-staging`), so environments
   * never share a queue: bindings are not inherited by a wrangler environment, each lists its own.
   */
  resourceSuffix: z
    .string()
    .regex(/^(-[a-z0-9]+)*$/)
    .default(''),
  /** The D1 usage database (`wrangler d1 create`); unset when the environment meters into Upstash. */
  usageDatabaseId: z.string().min(1).optional(),
  vars: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()).default({}),
});

const Backend = z
  .object({
    gcpProject: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id'),
    region: z.string().min(1),
    service: z.string().regex(/^[a-z][a-z0-9-]*$/),
    url: z.url({ protocol: /^https$/, message: 'the service https URL' }),
    gpuType: z.string().min(1),
    gpuCount: z.number().int().positive(),
    cpu: z.number().int().positive(),
    memory: z.string().regex(/^\d+(Mi|Gi)$/, 'e.g. 16Gi'),
    concurrency: z.number().int().positive(),
    minInstances: z.number().int().nonnegative(),
    maxInstances: z.number().int().positive(),
    timeoutSeconds: z.number().int().positive().max(3600),
  })
  .refine((b) => b.maxInstances >= b.minInstances, { message: 'maxInstances must be at least minInstances', path: ['maxInstances'] });

export const DeploySettings = z.object({
  $comment: z.string().optional(),
  environments: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.object({ edge: Edge, backend: Backend })),
});
export type DeploySettings = z.infer<typeof DeploySettings>;
export type Environment = DeploySettings['environments'][string];

export async function readDeploySettings(repoRoot: string): Promise<DeploySettings> {
  const path = join(repoRoot, 'infra/deploy.json');
  const parsed = DeploySettings.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${path}:\n${parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n')}`);
  }
  return parsed.data;
}

export function environment(settings: DeploySettings, name: string | undefined): Environment & { name: string } {
  const names = Object.keys(settings.environments);
  const found = name ? settings.environments[name] : undefined;
  if (!name || !found) throw new Error(`name an environment of infra/deploy.json: ${names.join(' or ')}`);
  return { ...found, name };
}

/** The Worker's vars in an environment: the file's, and those that follow from its backend. */
export function edgeVars(env: Environment): Record<string, string> {
  return { BACKEND_URL: env.backend.url, GOOGLE_CLOUD_PROJECT: env.backend.gcpProject, ...env.edge.vars };
}
