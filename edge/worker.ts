// Builds the edge Worker from a bundle of models: the registry, the onnxruntime-web runtime on the
// module the Workers runtime compiled at upload, the backend client, and the app. Bindings exist only
// once a request arrives, so the app is built on the first one and kept for the isolate's life.

import { Redis } from '@upstash/redis/cloudflare';
import type { ExecutionContext, Hono } from 'hono';
// wrangler's module rules resolve files by path, not through package exports.
import ortWasm from '../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import { errorResponse } from '../protocol/errors.ts';
import { logLine } from '../protocol/log.ts';
import { createApp } from './app.ts';
import { createJwtVerifier } from './auth/jwt.ts';
import { ApiKeyStore } from './auth/key-store.ts';
import type { EdgeEnv } from './context.ts';
import { BackendClient } from './backend/client.ts';
import { CircuitBreaker } from './backend/circuit-breaker.ts';
import type { BundledModel } from './bundled-model.ts';
import { ConfigError, type EdgeConfig, parseEdgeConfig } from './config.ts';
import { EdgeInference } from './inference.ts';
import { UsageMeter } from './metering.ts';
import { rateLimitOptions } from './ratelimit/store.ts';
import { checkReadiness } from './readiness.ts';
import { ModelRegistry } from './registry.ts';
import { EdgeTasks } from './tasks.ts';
import { createWasmRuntime } from './wasm-runtime.ts';

// One JSON line per event, with a severity (protocol/log.ts), as the backend writes them; the platform
// timestamps it. Lines already in that form (the request log) are written as they are.
const log = (line: string) => console.log(line.startsWith('{') ? line : logLine('INFO', line));
const now = () => Date.now();

// Retried once after 50–250 ms: long enough for a dropped connection to be re-established, short
// next to a model run.
const retryJitterMs = { min: 50, max: 250 };

/** The app over a bundle and a parsed configuration (exported for harnesses that inspect its routes). */
export function buildApp(bundledModels: readonly BundledModel[], config: EdgeConfig): Hono<EdgeEnv> {
  const backend = config.backend
    ? new BackendClient({
        baseUrl: config.backend.url,
        signingSecret: config.backend.signingSecret,
        defaultTimeoutMs: config.backend.timeoutMs,
        breaker: new CircuitBreaker({ ...config.backend.breaker, now }),
        retryJitterMs,
      })
    : undefined;
  if (!config.backend) log('BACKEND_URL is not set: gpu-tier models answer 503, auto-tier models run at the edge');
  else if (!config.backend.signingSecret)
    log('EDGE_SIGNING_SECRET is not set: forwarding unsigned, which only a backend with EDGE_SIGNATURE_REQUIRED=false accepts');
  if (!config.gatewayChecks) log('UNSAFE_LOCAL_BENCHMARK_NO_AUTH=true: no authentication and no rate limits (local benchmark only)');
  const redis = config.redis && new Redis({ url: config.redis.url, token: config.redis.token });
  if (!redis) log('UPSTASH_REDIS_REST_URL is not set: usage is not metered (GET /v1/usage answers 503)');
  const registry = new ModelRegistry(bundledModels, log);
  const runtime = createWasmRuntime({ wasmModule: ortWasm, log });
  return createApp({
    corsAllowedOrigins: config.corsAllowedOrigins,
    readiness: () =>
      checkReadiness({
        manifests: [...registry.manifests.values()],
        kv: config.auth.apiKeys,
        redis,
        rateLimitFailureMode: config.rateLimit.failureMode,
        // One breaker for the backend today, read per model through the interface readiness needs.
        backend: backend && { breakerState: () => backend.breakerState },
        timeoutMs: config.rateLimit.timeoutMs * 4,
      }),
    meter: new UsageMeter(redis, log),
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
    gatewayChecks: config.gatewayChecks,
    gcpProjectId: config.gcpProjectId,
    log,
  });
}

/** The Worker's module export: what workerd calls for each request. */
export interface EdgeWorker {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

export function createEdgeWorker(bundledModels: readonly BundledModel[]): EdgeWorker {
  let app: Hono<EdgeEnv> | undefined;
  return {
    fetch(request, env, ctx) {
      try {
        app ??= buildApp(bundledModels, parseEdgeConfig(env));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        log(err.message);
        return errorResponse(new Error('the edge is misconfigured'), () => {});
      }
      return app.fetch(request, env, ctx);
    },
  };
}
