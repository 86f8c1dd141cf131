// Open Inference Protocol v2 routes of the edge. Handlers only translate between HTTP and the
// registry, codec and runtime; every failure is thrown as a typed error and mapped in app.onError.
// Each route is declared with createRoute, which validates its parameters and describes it in
// /openapi.json (edge/openapi.ts).

import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { bodyHeaders, encodeInferResponse, inferenceHeaderContentLength, inferRequestMediaTypes } from '../../protocol/binary.ts';
import { requireMediaType } from '../../protocol/body.ts';
import { edgeRequestLimits } from '../../protocol/edge-limits.ts';
import { serverMetadata } from '../../protocol/server-info.ts';
import { providerHeader } from '../../protocol/tasks.ts';
import { inputElements, readInferRequest } from '../../models/infer-request.ts';
import { modelMetadata } from '../../models/metadata.ts';
import { countUnits } from '../../models/units.ts';
import type { Context, MiddlewareHandler } from 'hono';
import type { Manifest } from '../../models/manifest.ts';
import type { EdgeInference } from '../inference.ts';
import type { ModelRegistry } from '../registry.ts';
import type { EdgeEnv } from '../context.ts';
import { readEdgeBody } from '../middleware/body-limit.ts';
import type { UsageMeter } from '../metering.ts';
import { ReadinessReport } from '../readiness.ts';
import {
  acceptedResponse,
  apiRoutes,
  authenticated,
  errorResponse,
  formatBytes,
  gatewayErrors,
  jsonResponse,
  modelRunParameters,
  schemas,
} from '../openapi.ts';

export interface V2Deps {
  registry: ModelRegistry;
  inference: EdgeInference;
  meter: UsageMeter;
  /**
   * Run before every infer handler: authentication and model access, then `read` (the body's bytes),
   * then `prepare` (which decodes and weighs them), then the rate limit charged with the units
   * `prepare` found. Metadata routes stay public.
   */
  inferGuard: (
    read: MiddlewareHandler<EdgeEnv>,
    prepare: MiddlewareHandler<EdgeEnv>,
    units: (c: Context<EdgeEnv>) => number,
  ) => MiddlewareHandler<EdgeEnv>;
  /** The edge's dependencies and each model's state, for `/v2/health/ready` (edge/readiness.ts). */
  readiness: () => Promise<ReadinessReport>;
}

type ModelParams = { name: string; version?: string };

/** The path parameters of a model's routes, with or without a version. */
function modelPath(manifests: readonly Manifest[], withVersion: boolean) {
  const name = z.string().openapi({ param: { description: 'the model' }, enum: manifests.map((m) => m.name), example: manifests[0]?.name });
  const version = z
    .string()
    .openapi({ param: { description: "one of the model's versions" }, example: manifests[0]?.versions[0]?.version });
  return withVersion
    ? { prefix: '/models/{name}/versions/{version}', params: z.object({ name, version }), suffix: ' (a given version)' }
    : { prefix: '/models/{name}', params: z.object({ name }), suffix: ' (its default version)' };
}

/** Routes under `/v2/models/{name}` and `/v2/models/{name}/versions/{version}`. */
function modelRoutes(
  v2: OpenAPIHono<EdgeEnv>,
  { registry, inference, meter, inferGuard }: V2Deps,
  { prefix, params: Params, suffix }: ReturnType<typeof modelPath>,
): void {
  const manifests = [...registry.manifests.values()];
  const params = (c: { req: { param(): Record<string, string> } }) => c.req.param() as ModelParams;
  const maxRequestBytes = Math.max(...manifests.map((m) => m.limits.maxRequestBytes));

  const metadataRoute = createRoute({
    method: 'get',
    path: prefix,
    summary: `Model metadata${suffix}`,
    request: { params: Params },
    responses: {
      200: jsonResponse(
        schemas.ModelMetadata,
        'name, versions, inputs and outputs (-1: any size)',
        manifests[0] && modelMetadata(manifests[0]),
      ),
      404: errorResponse('unknown model or version'),
    },
  });
  v2.openapi(metadataRoute, (c) => {
    const { name, version } = params(c);
    return c.json(modelMetadata(registry.resolve(name, version).manifest), 200);
  });

  const readyRoute = createRoute({
    method: 'get',
    path: `${prefix}/ready`,
    summary: `Model readiness${suffix}`,
    request: { params: Params },
    responses: {
      200: jsonResponse(ModelReady, 'its session exists here, or its backend has it ready'),
      404: errorResponse('unknown model or version'),
      503: errorResponse('cannot serve now, with the reason'),
    },
  });
  v2.openapi(readyRoute, async (c) => {
    const { name, version } = params(c);
    const resolved = registry.resolve(name, version);
    await inference.ready(resolved);
    return c.json({ name, version: resolved.version.version, ready: true }, 200);
  });

  // Read within the edge's and the model's byte limits before anything parses it; the response cache
  // can answer identical bytes from here, without decoding them.
  const readInfer: MiddlewareHandler<EdgeEnv> = async (c, next) => {
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
    c.set('inferRead', { resolved, body });
    await next();
  };
  // Decoded and checked against the manifest before the limit is charged: a request is counted by the
  // work it holds (models/units.ts), a batch of 8 as more than one.
  const decodeInfer: MiddlewareHandler<EdgeEnv> = async (c, next) => {
    const { resolved, body } = c.get('inferRead');
    const { wire, decoded } = readInferRequest(body, c.req.header(inferenceHeaderContentLength), resolved.manifest);
    c.set('infer', { resolved, wire, decoded, inputElements: inputElements(decoded), body });
    await next();
  };
  const inferUnits = (c: Context<EdgeEnv>) => {
    const { resolved, inputElements } = c.get('infer');
    return countUnits(resolved.manifest.units, [inputElements]);
  };

  // The body is not declared as a zod schema here: that would make the validator read it whole, and
  // this route reads it itself (readInfer), within the edge's and the model's byte limits, before any parse.
  const inferRoute = createRoute({
    method: 'post',
    path: `${prefix}/infer`,
    summary: `Run the model${suffix}`,
    description:
      'JSON, or the binary tensor data extension (application/octet-stream with Inference-Header-Content-Length). ' +
      'The answer says where it ran in x-edgeinfer-tier (edge, gpu or edge-fallback) and on what in x-edgeinfer-provider, and carries x-request-id.',
    security: authenticated,
    middleware: [inferGuard(readInfer, decodeInfer, inferUnits)],
    parameters: modelRunParameters,
    request: {
      params: Params,
      body: {
        required: true,
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/InferRequest' } },
          'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
        },
      },
    },
    responses: {
      200: {
        description: 'the outputs asked for, in the order asked; binary outputs as the extension says when the request asked for them',
        content: {
          'application/json': { schema: schemas.InferResponse },
          'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
        },
      },
      ...acceptedResponse,
      400: errorResponse('malformed JSON or tensor, or an input the model cannot run on'),
      ...gatewayErrors,
      403: errorResponse('a valid credential that may not run this model'),
      404: errorResponse('unknown model or version'),
      402: errorResponse("the caller's monthly budget is spent"),
      413: errorResponse(
        `body, values, elements or batch over the model's limits (bodies up to ${formatBytes(maxRequestBytes)} at most on the backend, ${formatBytes(edgeRequestLimits.inferBinaryBytes)} binary or ${formatBytes(edgeRequestLimits.inferJsonBytes)} JSON through the edge), or more work than the plan allows in a whole window`,
      ),
      415: errorResponse('content type other than JSON or octet-stream'),
    },
  });
  v2.openapi(inferRoute, async (c) => {
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
      [providerHeader]: outcome.provider,
      'Server-Timing': `infer;dur=${inferMs.toFixed(3)}`,
    });
  });
}

const ModelReady = z.object({ name: z.string(), version: z.string(), ready: z.literal(true) }).openapi('ModelReady');
const Live = z.object({ live: z.literal(true) });

export function v2Routes(deps: V2Deps): OpenAPIHono<EdgeEnv> {
  const v2 = apiRoutes<EdgeEnv>();
  const manifests = [...deps.registry.manifests.values()];
  v2.openapi(
    createRoute({
      method: 'get',
      path: '/',
      summary: 'Server metadata',
      responses: { 200: jsonResponse(schemas.ServerMetadata, 'name, version, protocol extensions', serverMetadata('edge')) },
    }),
    (c) => c.json(serverMetadata('edge'), 200),
  );
  v2.openapi(
    createRoute({
      method: 'get',
      path: '/health/live',
      summary: 'Liveness',
      responses: { 200: jsonResponse(Live, 'live', { live: true }) },
    }),
    (c) => c.json({ live: true as const }, 200),
  );
  // Sessions are created on first use, so a model that cannot load is reported by its own ready route;
  // this one says whether the edge can serve what it carries now (edge/readiness.ts).
  v2.openapi(
    createRoute({
      method: 'get',
      path: '/health/ready',
      summary: 'Readiness',
      description:
        "The edge's dependencies (API keys store, Redis, backend) and, per model, where it runs now and its backend breaker. 503 when something it carries cannot be served.",
      responses: {
        200: jsonResponse(ReadinessReport, 'ready: every model can be served, here or on the backend'),
        503: jsonResponse(
          ReadinessReport,
          'not ready: the key store is unreachable, Redis is under RATE_LIMIT_FAILURE_MODE=closed, or a model has no tier to run on',
        ),
      },
    }),
    async (c) => {
      const report = await deps.readiness();
      return c.json(report, report.ready ? 200 : 503);
    },
  );
  v2.openapi(
    createRoute({
      method: 'get',
      path: '/models',
      summary: 'Every model',
      responses: { 200: jsonResponse(z.object({ models: z.array(schemas.ModelMetadata) }), 'their metadata') },
    }),
    (c) => c.json({ models: manifests.map(modelMetadata) }, 200),
  );
  modelRoutes(v2, deps, modelPath(manifests, true));
  modelRoutes(v2, deps, modelPath(manifests, false));
  return v2;
}
