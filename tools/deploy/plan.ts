// What a deployment will apply, made from infra/deploy.json and the model manifests before anything
// runs: the lines printed for a person to read, and the command that applies it. Pure: no I/O.

import { edgeCarriedVersion, type Manifest, servedBy, tierDefaultVersion } from '../../models/manifest.ts';
import { type Environment, edgeVars } from './settings.ts';

export interface Plan {
  lines: string[];
  command: { program: string; args: string[]; env: Record<string, string> };
}

// The edge waits this long for the backend unless a manifest says otherwise (edge/config.ts's default).
const defaultBackendTimeoutMs = 30_000;
const edgeSecrets = ['EDGE_SIGNING_SECRET', 'UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN'];

const row = (label: string, value: string) => `  ${label.padEnd(22)}${value}`;

export function edgePlan(env: Environment & { name: string }, manifests: readonly Manifest[]): Plan {
  const vars = edgeVars(env);
  const carried = manifests.flatMap((m) => {
    const version = edgeCarriedVersion(m);
    return version ? [`${m.name} ${version.version}`] : [];
  });
  const forwarded = manifests.filter((m) => servedBy(m, 'gpu')).map((m) => m.name);
  return {
    lines: [
      `edge → environment '${env.name}' (infra/deploy.json, models/*/manifest.json)`,
      row('Worker', env.edge.workerName),
      row('KV API_KEYS', env.edge.apiKeysNamespaceId),
      ...Object.entries(vars).map(([key, value]) => row(`var ${key}`, value)),
      row('secrets (not shown)', `${edgeSecrets.join(', ')}: wrangler secret put NAME --env ${env.name}`),
      row('models run here', carried.join(', ') || 'none'),
      row('models on the backend', `${forwarded.join(', ') || 'none'} (at ${vars.BACKEND_URL})`),
    ],
    command: { program: 'npx', args: ['wrangler', 'deploy', '--env', env.name], env: {} },
  };
}

export function backendPlan(env: Environment & { name: string }, manifests: readonly Manifest[]): Plan {
  const b = env.backend;
  const served = manifests.filter((m) => servedBy(m, 'gpu')).map((m) => `${m.name} ${tierDefaultVersion(m, 'gpu')}`);
  // A request the edge still waits for must not be cut by Cloud Run's own deadline first.
  const longestWaitMs = Math.max(defaultBackendTimeoutMs, ...manifests.map((m) => m.routing?.backendTimeoutMs ?? 0));
  if (b.timeoutSeconds * 1000 < longestWaitMs) {
    throw new Error(
      `infra/deploy.json: environments.${env.name}.backend.timeoutSeconds (${b.timeoutSeconds}) is shorter than the edge's longest wait for the backend (${longestWaitMs} ms, from the manifests)`,
    );
  }
  const flags = [
    `--gpu=${b.gpuCount}`,
    `--gpu-type=${b.gpuType}`,
    `--cpu=${b.cpu}`,
    `--memory=${b.memory}`,
    `--concurrency=${b.concurrency}`,
    `--min-instances=${b.minInstances}`,
    `--max-instances=${b.maxInstances}`,
    `--timeout=${b.timeoutSeconds}`,
  ];
  return {
    lines: [
      `backend → environment '${env.name}' (infra/deploy.json, models/*/manifest.json)`,
      row('project / region', `${b.gcpProject} / ${b.region}`),
      row('Cloud Run service', b.service),
      row('GPU', `${b.gpuCount} × ${b.gpuType}`),
      row('CPU / memory', `${b.cpu} / ${b.memory}`),
      row('concurrency', String(b.concurrency)),
      row('instances', `${b.minInstances}..${b.maxInstances}`),
      row('request timeout', `${b.timeoutSeconds} s (the edge waits at most ${longestWaitMs / 1000} s)`),
      row('models served', served.join(', ') || 'none'),
      row('gcloud flags', flags.join(' ')),
    ],
    command: {
      program: 'bash',
      args: ['infra/deploy-cloudrun.sh'],
      env: {
        PROJECT_ID: b.gcpProject,
        REGION: b.region,
        SERVICE: b.service,
        GPU_TYPE: b.gpuType,
        GPU_COUNT: String(b.gpuCount),
        CPU: String(b.cpu),
        MEMORY: b.memory,
        CONCURRENCY: String(b.concurrency),
        MIN_INSTANCES: String(b.minInstances),
        MAX_INSTANCES: String(b.maxInstances),
        TIMEOUT_SECONDS: String(b.timeoutSeconds),
      },
    },
  };
}
