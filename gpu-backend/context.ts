// What the backend's routes are built from: its own module, so a route imports the types it needs and
// never the app that mounts it (app.ts imports the routes).

import type { BackendConfig } from './config.ts';
import type { Drain } from './drain.ts';
import type { InferenceService } from './inference.ts';
import type { BackendMetrics } from './metrics.ts';
import type { SeenNonces } from './nonces.ts';
import type { Readiness } from './readiness.ts';
import type { ModelRegistry } from './registry.ts';
import type { OnnxRuntime } from './runtime.ts';
import type { BackendTasks } from './tasks.ts';

export interface BackendDeps {
  registry: ModelRegistry;
  runtime: OnnxRuntime;
  inference: InferenceService;
  tasks: BackendTasks;
  readiness: Readiness;
  metrics: BackendMetrics;
  drain: Drain;
  /** The secrets the edge may sign with (current first); undefined when signatures are not required (local development). */
  signatureSecrets: readonly string[] | undefined;
  nonces: SeenNonces;
  /** Bearer token for GET /metrics; undefined turns the route off. */
  metricsToken: string | undefined;
  vertex: BackendConfig['vertex'];
  /** Names the traces in log lines (GOOGLE_CLOUD_PROJECT); absent locally. */
  gcpProjectId?: string | undefined;
  log: (line: string) => void;
  now?: () => number;
}
