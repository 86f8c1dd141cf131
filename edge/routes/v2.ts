// Open Inference Protocol v2 routes of the edge. Handlers only translate between HTTP and the
// registry, codec and runtime; every failure is thrown as a typed error and mapped in app.onError.

import { Hono } from 'hono';
import { bodyHeaders, encodeInferResponse, inferenceHeaderContentLength, inferRequestMediaTypes } from '../../protocol/binary.ts';
import { readBodyWithLimit, requireMediaType } from '../../protocol/body.ts';
import { serverMetadata } from '../../protocol/server-info.ts';
import { inputElements, readInferRequest } from '../../models/infer-request.ts';
import { modelMetadata } from '../../models/metadata.ts';
import type { MiddlewareHandler } from 'hono';
import type { EdgeInference } from '../inference.ts';
import type { ModelRegistry } from '../registry.ts';
import type { EdgeEnv } from '../context.ts';
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

  model.get('/ready', async (c) => {
    const { name, version } = params(c);
    const resolved = registry.resolve(name, version);
    await inference.ready(resolved);
    return c.json({ name, version: resolved.version.version, ready: true });
  });

  model.post('/infer', inferGuard, async (c) => {
    const { name, version } = params(c);
    const resolved = registry.resolve(name, version);
    requireMediaType(c.req.header('content-type'), inferRequestMediaTypes);
    const body = await readBodyWithLimit(c.req.raw, resolved.manifest.limits.maxRequestBytes);
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
  return model;
}

export function v2Routes(deps: V2Deps): Hono<EdgeEnv> {
  const v2 = new Hono<EdgeEnv>();
  v2.get('/', (c) => c.json(serverMetadata('edge')));
  v2.get('/health/live', (c) => c.json({ live: true }));
  // Ready as soon as the bundle's manifests parsed: sessions are created on first use, and a model
  // that cannot load is reported by its own ready route without taking the others down.
  v2.get('/health/ready', (c) => c.json({ ready: true }));
  v2.get('/models', (c) => c.json({ models: [...deps.registry.manifests.values()].map(modelMetadata) }));

  const model = modelRoutes(deps);
  v2.route('/models/:name/versions/:version', model);
  v2.route('/models/:name', model);
  return v2;
}
