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
import { countUnits } from '../../models/units.ts';
import type { Context, MiddlewareHandler } from 'hono';
import type { EdgeInference } from '../inference.ts';
import type { ModelRegistry } from '../registry.ts';
import type { EdgeEnv } from '../context.ts';
import { readEdgeBody } from '../middleware/body-limit.ts';
import type { UsageMeter } from '../metering.ts';

export interface V2Deps {
  registry: ModelRegistry;
  inference: EdgeInference;
  meter: UsageMeter;
  /**
   * Run before every infer handler: authentication and model access, then `prepare` (which reads and
   * weighs the request), then the rate limit charged with the units `prepare` found. Metadata routes
   * stay public.
   */
  inferGuard: (prepare: MiddlewareHandler<EdgeEnv>, units: (c: Context<EdgeEnv>) => number) => MiddlewareHandler<EdgeEnv>;
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

  // Read, decoded and checked against the manifest before the limit is charged: a request is
  // counted by the work it holds (models/units.ts), a batch of 8 as more than one.
  const prepareInfer: MiddlewareHandler<EdgeEnv> = async (c, next) => {
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
    c.set('infer', { resolved, wire, decoded, inputElements: inputElements(decoded), body });
    await next();
  };
  const inferUnits = (c: Context<EdgeEnv>) => {
    const { resolved, inputElements } = c.get('infer');
    return countUnits(resolved.manifest.units, [inputElements]);
  };

  model.post('/infer', inferGuard(prepareInfer, inferUnits), async (c) => {
    const { resolved, wire, decoded, inputElements } = c.get('infer');
    const startedMs = performance.now();
    const outcome = await inference.infer(resolved, decoded, c.get('trace'), wire.id);
    const inferMs = performance.now() - startedMs;
    // Recorded after the answer, off its path; the headers say what it cost.
    const charged = meter.charge(
      c.get('principal'),
      {
        model: resolved.manifest.name,
        tier: outcome.tier,
        units: countUnits(resolved.manifest.units, [inputElements], outcome.gpuRunMs),
        inputElements,
        computeMs: inferMs,
      },
      (work) => c.executionCtx.waitUntil(work),
    );

    const head = { model_name: resolved.manifest.name, model_version: outcome.modelVersion, id: wire.id };
    const encoded = encodeInferResponse(head, outcome.outputs, wire);
    return c.body(encoded.body as Uint8Array<ArrayBuffer>, 200, {
      ...bodyHeaders(encoded),
      ...charged,
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
