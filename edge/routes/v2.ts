// Open Inference Protocol v2 routes of the edge. Handlers only translate between HTTP and the
// registry, codec and runtime; every failure is thrown as a typed error and mapped in app.onError.

import { Hono } from 'hono';
import { bodyHeaders, encodeInferResponse, inferenceHeaderContentLength, inferRequestMediaTypes } from '../../protocol/binary.ts';
import { requireMediaType } from '../../protocol/body.ts';
import { edgeRequestLimits } from '../../protocol/edge-limits.ts';
import { MethodNotAllowed } from '../../protocol/errors.ts';
import { serverMetadata } from '../../protocol/server-info.ts';
import { inputElements, readInferRequest } from '../../models/infer-request.ts';
import { modelMetadata } from '../../models/metadata.ts';
import type { MiddlewareHandler } from 'hono';
import type { EdgeInference } from '../inference.ts';
import type { ModelRegistry } from '../registry.ts';
import type { EdgeEnv } from '../context.ts';
import { readEdgeBody } from '../middleware/body-limit.ts';
import type { UsageMeter } from '../metering.ts';

export interface V2Deps {
  registry: ModelRegistry;
  inference: EdgeInference;
  meter: UsageMeter;
  /** Run before every infer handler: authentication and model access. Metadata routes stay public. */
  inferGuard: MiddlewareHandler<EdgeEnv>;
}

type ModelParams = { name: string; version?: string };

/** Routes under `/v2/models/{name}` and `/v2/models/{name}/versions/{version}`. */
function modelRoutes({ registry, inference, meter, inferGuard }: V2Deps): Hono<EdgeEnv> {
  const model = new Hono<EdgeEnv>();
  const params = (c: { req: { param(): Record<string, string> } }) => c.req.param() as ModelParams;

  model.get('/', (c) => {
    const { name, version } = params(c);
    return c.json(modelMetadata(registry.resolve(name, version).manifest));
  });
  model.all('/', (c) => {
    throw new MethodNotAllowed(c.req.method, ['GET']);
  });

  model.get('/ready', async (c) => {
    const { name, version } = params(c);
    const resolved = registry.resolve(name, version);
    await inference.ready(resolved);
    return c.json({ name, version: resolved.version.version, ready: true });
  });
  model.all('/ready', (c) => {
    throw new MethodNotAllowed(c.req.method, ['GET']);
  });

  model.post('/infer', inferGuard, async (c) => {
    const { name, version } = params(c);
    const resolved = registry.resolve(name, version);
    const binary = requireMediaType(c.req.header('content-type'), inferRequestMediaTypes) === 'application/octet-stream';
    const body = await readEdgeBody(c.req.raw, {
      routeBytes: resolved.manifest.limits.maxRequestBytes,
      edgeBytes: binary ? edgeRequestLimits.inferBinaryBytes : edgeRequestLimits.inferJsonBytes,
      advice: binary
        ? 'send fewer or smaller tensors per request'
        : `send the tensors as binary data (application/octet-stream, up to ${edgeRequestLimits.inferBinaryBytes} bytes), or fewer per request`,
    });
    const { wire, decoded } = readInferRequest(body, c.req.header(inferenceHeaderContentLength), resolved.manifest);

    const startedMs = performance.now();
    const outcome = await inference.infer(resolved, decoded, c.get('trace'), wire.id);
    const inferMs = performance.now() - startedMs;
    // Billing data is written after the answer, off its path.
    c.executionCtx.waitUntil(
      meter.record({
        keyId: c.get('principal').id,
        atMs: Date.now(),
        inputElements: inputElements(decoded),
        computeMs: inferMs,
        tier: outcome.tier,
      }),
    );

    const head = { model_name: resolved.manifest.name, model_version: outcome.modelVersion, id: wire.id };
    const encoded = encodeInferResponse(head, outcome.outputs, wire);
    return c.body(encoded.body as Uint8Array<ArrayBuffer>, 200, {
      ...bodyHeaders(encoded),
      'x-edgeinfer-tier': outcome.tier,
      'Server-Timing': `infer;dur=${inferMs.toFixed(3)}`,
    });
  });
  model.all('/infer', (c) => {
    throw new MethodNotAllowed(c.req.method, ['POST']);
  });
  return model;
}

export function v2Routes(deps: V2Deps): Hono<EdgeEnv> {
  const v2 = new Hono<EdgeEnv>();
  v2.get('/', (c) => c.json(serverMetadata('edge')));
  v2.get('/health/live', (c) => c.json({ live: true }));
  // Ready as soon as the bundle's manifests parsed: sessions are created on first use, and a model
  // that cannot load is reported by its own ready route without taking the others down.
  v2.get('/health/ready', (c) => c.json({ ready: true }));
  for (const path of ['/', '/health/live', '/health/ready']) {
    v2.all(path, (c) => {
      throw new MethodNotAllowed(c.req.method, ['GET']);
    });
  }
  v2.get('/models', (c) => c.json({ models: [...deps.registry.manifests.values()].map(modelMetadata) }));

  const model = modelRoutes(deps);
  v2.route('/models/:name/versions/:version', model);
  v2.route('/models/:name', model);
  return v2;
}
