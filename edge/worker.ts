// Builds the edge Worker from a bundle of models: the registry, the onnxruntime-web runtime on the
// module the Workers runtime compiled at upload, the backend client, and the app. Bindings exist only
// once a request arrives, so the app is built on the first one and kept for the isolate's life.

import { Redis } from '@upstash/redis/cloudflare';
import type { ExecutionContext, Hono } from 'hono';
// wrangler's module rules resolve files by path, not through package exports.
import ortWasm from '../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import { auditLog } from '../protocol/audit.ts';
import { errorResponse } from '../protocol/errors.ts';
import { logLine } from '../protocol/log.ts';
import { createApp } from './app.ts';
import { createJwtVerifier } from './auth/jwt.ts';
import { ApiKeyStore } from './auth/key-store.ts';
import type { EdgeEnv } from './context.ts';
import { BackendClient } from './backend/client.ts';
import { BackendBreakers } from './backend/circuit-breaker.ts';
import { GoogleIdTokenSource } from './backend/google-id-token.ts';
import type { BundledModel } from './bundled-model.ts';
import { ConfigError, type EdgeConfig, parseEdgeConfig } from './config.ts';
import { EdgeInference } from './inference.ts';
import { type QueueBatch as MeteringBatch, UsageMeter } from './metering.ts';
import { rateLimitOptions } from './ratelimit/store.ts';
import { checkReadiness } from './readiness.ts';
import { ModelRegistry } from './registry.ts';
import { EdgeTasks } from './tasks.ts';
import { d1UsageStore, redisUsageStore, type UsageStore } from './usage/store.ts';
import { createWasmRuntime } from './wasm-runtime.ts';
import type { JobMessage, QueueBatch } from './jobs/bindings.ts';
import { type JobsConfig, parseJobsConfig } from './jobs/config.ts';
import { consumeJobs } from './jobs/consumer.ts';

// wrangler.toml names the jobs queue `edgeinfer-jobs` (an environment may add a suffix); every other
// queue this Worker consumes is the metering queue.
const jobsQueuePrefix = 'edgeinfer-jobs';
import type { ResponseStore } from './cache/middleware.ts';

// One JSON line per event, with a severity (protocol/log.ts), as the backend writes them; the platform
// timestamps it. Lines already in that form (the request log) are written as they are.
const log = (line: string) => console.log(line.startsWith('{') ? line : logLine('INFO', line));
const now = () => Date.now();
const audit = auditLog(log, now);

// Retried once after 50–250 ms: long enough for a dropped connection to be re-established, short
// next to a model run.
const retryJitterMs = { min: 50, max: 250 };

/** Upstash Redis when configured (production), else the USAGE_DB D1 database (`npm start`, local state). */
function usageStore(config: EdgeConfig): UsageStore | undefined {
  // Its own client, without the client's retries: the queue retries, with backoff, what did not land.
  if (config.redis)
    return redisUsageStore(new Redis({ url: config.redis.url, token: config.redis.token, retry: false, enableTelemetry: false }));
  return config.metering.db && d1UsageStore(config.metering.db);
}

export function buildMeter(config: EdgeConfig): UsageMeter {
  const store = config.metering.enabled ? usageStore(config) : undefined;
  if (!config.metering.enabled) log('METERING=off: usage is not recorded (GET /v1/usage answers 503)');
  else if (!store) log('neither UPSTASH_REDIS_REST_URL nor a USAGE_DB binding: usage is not recorded (GET /v1/usage answers 503)');
  if (config.metering.enabled && !config.metering.queue)
    log('no METERING_QUEUE binding: usage events are written to the store directly, without retries');
  return new UsageMeter({
    recording: config.metering.enabled,
    store,
    queue: config.metering.queue,
    prices: config.billing.prices,
    readTimeoutMs: config.metering.readTimeoutMs,
    writeTimeoutMs: config.metering.writeTimeoutMs,
    batchWindowMs: config.metering.batchWindowMs,
    log,
    now,
  });
}

// The Cache API of the location serving the request (workerd's global `caches`).
const locationCache = () => (globalThis as unknown as { caches: { default: ResponseStore } }).caches.default;

/** The app over a bundle and a parsed configuration (exported for harnesses that inspect its routes). */
export function buildApp(bundledModels: readonly BundledModel[], config: EdgeConfig, meter: UsageMeter, jobs: JobsConfig): Hono<EdgeEnv> {
  const backend = config.backend
    ? new BackendClient({
        baseUrl: config.backend.url,
        signingSecret: config.backend.signingSecret,
        idTokens: config.backend.idToken && new GoogleIdTokenSource(config.backend.idToken),
        defaultTimeoutMs: config.backend.timeoutMs,
        breakers: new BackendBreakers({ ...config.backend.breaker, now }),
        retryJitterMs,
        onSignatureRefused: (path, requestId) => audit({ event: 'signature-refused', by: 'backend', path, requestId }),
      })
    : undefined;
  if (!config.backend) log('BACKEND_URL is not set: gpu-tier models answer 503, auto-tier models run at the edge');
  else if (!config.backend.signingSecret)
    log('EDGE_SIGNING_SECRET is not set: forwarding unsigned, which only a backend with EDGE_SIGNATURE_REQUIRED=false accepts');
  if (!config.gatewayChecks) log('UNSAFE_LOCAL_BENCHMARK_NO_AUTH=true: no authentication and no rate limits (local benchmark only)');
  const registry = new ModelRegistry(bundledModels, log);
  const runtime = createWasmRuntime({ wasmModule: ortWasm, log, audit });
  // Readiness pings Upstash on its own client (the limiter and the usage store have theirs).
  const redis = config.redis && new Redis({ url: config.redis.url, token: config.redis.token, enableTelemetry: false });
  return createApp({
    corsAllowedOrigins: config.corsAllowedOrigins,
    readiness: () =>
      checkReadiness({
        manifests: [...registry.manifests.values()],
        kv: config.auth.apiKeys,
        redis,
        rateLimitFailureMode: config.rateLimit.failureMode,
        backend: backend && { breakerState: (model) => backend.modelState(model) },
        timeoutMs: config.rateLimit.timeoutMs * 4,
      }),
    meter,
    registry,
    inference: new EdgeInference({ runtime, backend, log }),
    tasks: new EdgeTasks({
      registry,
      runtime,
      backend,
      dictionary: (model, version) => registry.dictionary(model, version),
      defaultBackendTimeoutMs: config.backend?.timeoutMs ?? 30_000,
    }),
    auth: {
      keys: new ApiKeyStore({ kv: config.auth.apiKeys, cacheTtlMs: config.auth.apiKeyCacheTtlMs, now }),
      jwt: config.auth.jwt && createJwtVerifier(config.auth.jwt, now),
    },
    rateLimit: rateLimitOptions(config, log, now),
    budget: {
      budgets: config.billing.budgets,
      failureMode: config.rateLimit.failureMode,
      refreshMs: config.billing.budgetRefreshMs,
      log,
      now,
    },
    gatewayChecks: config.gatewayChecks,
    jobs: { config: jobs, now, log },
    cache: { store: locationCache, meter, now },
    gcpProjectId: config.gcpProjectId,
    log,
  });
}

/** The Worker's module export: what workerd calls for each request, and for each batch of its queues. */
export interface EdgeWorker {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
  queue(batch: MeteringBatch | QueueBatch<JobMessage>, env: Env, ctx: ExecutionContext): Promise<void>;
}

export function createEdgeWorker(bundledModels: readonly BundledModel[]): EdgeWorker {
  let built: { config: EdgeConfig; meter: UsageMeter; jobs: JobsConfig; app?: Hono<EdgeEnv> } | undefined;
  const edgeFor = (env: Env | Readonly<Record<string, unknown>>) => {
    if (!built) {
      const config = parseEdgeConfig(env);
      built = { config, meter: buildMeter(config), jobs: parseJobsConfig(env) };
    }
    return built;
  };
  return {
    fetch(request, env, ctx) {
      let app: Hono<EdgeEnv>;
      try {
        const edge = edgeFor(env);
        edge.app ??= buildApp(bundledModels, edge.config, edge.meter, edge.jobs);
        app = edge.app;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        log(err.message);
        return errorResponse(new Error('the edge is misconfigured'), () => {});
      }
      return app.fetch(request, env, ctx);
    },
    // Two queues reach this Worker (wrangler.toml): the jobs queue, whose jobs run through the app's own
    // routes (edge/jobs/replay.ts, the same handler as a caller's request), and the metering queue,
    // whose events go into the usage store.
    async queue(batch, env, ctx) {
      const edge = edgeFor(env);
      if (batch.queue.startsWith(jobsQueuePrefix)) {
        const app = (edge.app ??= buildApp(bundledModels, edge.config, edge.meter, edge.jobs));
        await consumeJobs(batch as QueueBatch<JobMessage>, {
          config: edge.jobs,
          fetch: async (request) => app.fetch(request, env, ctx),
          now,
          log,
        });
      } else await edge.meter.consume(batch as MeteringBatch);
    },
  };
}
