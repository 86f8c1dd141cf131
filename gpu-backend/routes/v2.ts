// Open Inference Protocol v2 routes of the GPU backend: the same routes and bodies as the edge's.
// Handlers only translate between HTTP and the registry, codec and inference service; every failure
// is thrown as a typed error and mapped in app.onError.

import { Hono, type MiddlewareHandler } from 'hono';
import { bodyHeaders, encodeInferResponseParts, inferenceHeaderContentLength, inferRequestMediaTypes } from '../../protocol/binary.ts';
import { requireMediaType } from '../../protocol/body.ts';
import { HttpError } from '../../protocol/errors.ts';
import { signRunTime } from '../../protocol/run-time.ts';
import { serverMetadata } from '../../protocol/server-info.ts';
import { providerHeader } from '../../protocol/tasks.ts';
import { readInferRequest } from '../../models/infer-request.ts';
import { modelMetadata } from '../../models/metadata.ts';
import type { BackendDeps } from '../context.ts';
import { type BackendEnv, bufferedBody } from '../middleware/body.ts';
import { requestMetrics } from '../middleware/request-metrics.ts';

type ModelParams = { name: string; version?: string };

/** The execution provider a ready model's session runs on (`cuda`, `tensorrt`, `cpu`). */
export function providerOf(runtime: BackendDeps['runtime'], model: Parameters<BackendDeps['runtime']['state']>[0]): string {
  const state = runtime.state(model);
  return state.status === 'ready' ? state.provider : 'unknown';
}

/**
 * 503 until every model has been loaded and warmed up, while a model's session is being restarted
 * (gpu-backend/runtime.ts), and once draining for shutdown.
 */
export function readyHandler({ readiness, runtime }: Pick<BackendDeps, 'readiness' | 'runtime'>) {
  return (c: { json(body: unknown): Response }) => {
    if (!readiness.ready) throw new HttpError(503, readiness.draining ? 'server is shutting down' : 'server is still loading its models');
    const restarting = runtime.restarting();
    if (restarting.length > 0) {
      const which = restarting.map(({ key, reason }) => `${key} (${reason})`).join(', ');
      throw new HttpError(503, `restarting the session of ${which}`, { 'Retry-After': '5' });
    }
    return c.json({ ready: true });
  };
}

/** Routes under `/v2/models/{name}` and `/v2/models/{name}/versions/{version}`. */
function modelRoutes(deps: BackendDeps): Hono<BackendEnv> {
  const { registry, runtime, inference, metrics } = deps;
  // Run times are signed with the current secret, the one the edge signs with (older ones only verify).
  const runTimeSecret = deps.signatureSecrets?.[0];
  const model = new Hono<BackendEnv>();
  const params = (c: { req: { param(): Record<string, string> } }) => c.req.param() as ModelParams;

  const resolveModel: MiddlewareHandler<BackendEnv> = async (c, next) => {
    const { name, version } = params(c);
    c.set('model', registry.resolve(name, version));
    await next();
  };

  model.get('/', (c) => {
    const { name, version } = params(c);
    return c.json(modelMetadata(registry.resolve(name, version).manifest));
  });

  model.get('/ready', (c) => {
    const { name, version } = params(c);
    const resolved = registry.resolve(name, version);
    runtime.ensureReady(resolved);
    return c.json({ name, version: resolved.version.version, ready: true });
  });

  model.post(
    '/infer',
    requestMetrics(metrics),
    resolveModel,
    // The signature was checked before this (app.ts); the body is read up to its signed length.
    bufferedBody({ maxBytes: (c) => c.get('model')!.manifest.limits.maxRequestBytes }),
    async (c) => {
      const resolved = c.get('model')!;
      runtime.ensureReady(resolved);
      // JSON, or the binary tensor data extension's JSON header followed by raw tensor bytes.
      requireMediaType(c.req.header('content-type'), inferRequestMediaTypes);
      const { wire: body, decoded: request } = readInferRequest(
        c.get('body'),
        c.req.header(inferenceHeaderContentLength) ?? null,
        resolved.manifest,
      );

      const startedMs = performance.now();
      const outputs = await inference.infer(resolved, request);
      const inferMs = performance.now() - startedMs;
      // The edge bills GPU work by this time, so it trusts it only signed (protocol/run-time.ts).
      const requestId = c.req.header('x-request-id');
      const runTime = runTimeSecret && requestId ? await signRunTime(runTimeSecret, requestId, inferMs) : {};

      const head = { model_name: resolved.manifest.name, model_version: resolved.version.version, id: body.id };
      // The JSON header and each binary output are written as they are: joining them into one buffer
      // would copy every output's megabytes once more (see bench/backend.ts, server overhead).
      const encoded = encodeInferResponseParts(head, outputs, body);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of encoded.parts) controller.enqueue(part);
          controller.close();
        },
      });
      return c.body(stream, 200, {
        ...bodyHeaders(encoded),
        'content-length': String(encoded.byteLength),
        'x-edgeinfer-tier': 'gpu',
        // The tier is the backend's; what it ran on is the provider its session loaded with (CPU included).
        [providerHeader]: providerOf(runtime, resolved),
        'Server-Timing': `infer;dur=${inferMs.toFixed(3)}`,
        ...runTime,
      });
    },
  );
  return model;
}

export function v2Routes(deps: BackendDeps): Hono<BackendEnv> {
  const v2 = new Hono<BackendEnv>();
  v2.get('/', (c) => c.json(serverMetadata('gpu-backend')));
  v2.get('/health/live', (c) => c.json({ live: true }));
  v2.get('/health/ready', readyHandler(deps));
  v2.get('/models', (c) => c.json({ models: [...deps.registry.manifests.values()].map(modelMetadata) }));

  const model = modelRoutes(deps);
  v2.route('/models/:name/versions/:version', model);
  v2.route('/models/:name', model);
  return v2;
}
