// Builds the backend from its configuration and serves it: listens first (so liveness answers while
// models load), then verifies, loads and warms up every model, then reports ready.

import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { loadModelFolders } from '../models/catalog-fs.ts';
import { type BackendDeps, createApp } from './app.ts';
import type { BackendConfig } from './config.ts';
import { InferenceService } from './inference.ts';
import { Drain } from './drain.ts';
import { InFlightRequests } from './in-flight.ts';
import { BackendMetrics } from './metrics.ts';
import { Readiness } from './readiness.ts';
import { SeenNonces } from './nonces.ts';
import { ModelRegistry } from './registry.ts';
import { OnnxRuntime } from './runtime.ts';
import { BackendTasks } from './tasks.ts';
import { loadDictionaries } from './dictionaries.ts';
import { tasks } from '../models/tasks/tasks.ts';

export interface RunningBackend {
  url: URL;
  server: ServerType;
  deps: BackendDeps;
  inFlight: InFlightRequests;
  /** Resolves once every model is loaded and warmed up, or known to be unavailable. */
  loaded: Promise<void>;
}

export async function startBackend(config: BackendConfig, log: (line: string) => void): Promise<RunningBackend> {
  const registry = new ModelRegistry(
    await loadModelFolders(config.modelsDir),
    Object.values(tasks).flatMap((task) => task.models),
  );
  const runtime = new OnnxRuntime({ executionProviders: config.executionProviders, intraOpThreads: config.intraOpThreads, log });
  const metrics = new BackendMetrics();
  const readiness = new Readiness();
  const inference = new InferenceService(registry.models, {
    runtime,
    metrics,
    batching: config.batching,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  const dictionaries = await loadDictionaries(registry.models, log);
  const deps: BackendDeps = {
    registry,
    runtime,
    inference,
    tasks: new BackendTasks({
      registry,
      inference,
      dictionary: (model) => dictionaries.get(model.key),
      provider: (model) => {
        const state = runtime.state(model);
        return state.status === 'ready' ? state.provider : undefined;
      },
    }),
    readiness,
    metrics,
    drain: new Drain(),
    signatureSecrets: config.signature.required
      ? [config.signature.secret, ...(config.signature.previousSecret ? [config.signature.previousSecret] : [])]
      : undefined,
    nonces: new SeenNonces({ maxEntries: config.signature.maxNonces }),
    metricsToken: config.metricsToken,
    vertex: config.vertex,
    gcpProjectId: config.gcpProjectId,
    log,
  };
  const app = createApp(deps);

  const server = await new Promise<ServerType>((resolve) => {
    const started: ServerType = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(started));
  });
  const inFlight = new InFlightRequests((count) => metrics.inFlight.set(count));
  inFlight.track(server);
  const { port } = server.address() as AddressInfo;
  const url = new URL(`http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`);
  log(`gpu-backend listening on ${url.origin} (Vertex AI routes: ${config.vertex.healthRoute}, ${config.vertex.predictRoute})`);
  if (!config.signature.required)
    log('WARNING: EDGE_SIGNATURE_REQUIRED=false: inference routes accept unsigned requests; for local development only');
  if (!config.metricsToken) log('GET /metrics is off: set METRICS_TOKEN to scrape it');
  if (!config.batching.enabled) log('dynamic batching is off (BATCHING=false): every request runs by itself');

  const loaded = runtime.load(registry.models).then(() => {
    readiness.modelsLoaded();
    const served = registry.models.filter((model) => runtime.state(model).status === 'ready').map((model) => model.key);
    log(`gpu-backend ready: serving ${served.join(', ') || 'no models'}`);
  });
  return { url, server, deps, inFlight, loaded };
}
