// The OpenAPI 3.1 description of the edge's public API, generated from the same zod schemas that
// validate requests (protocol/schemas.ts), so the document cannot drift from what is enforced.

import { z } from 'zod';
import pkg from '../package.json' with { type: 'json' };
import { ErrorResponse, InferRequest, InferResponse, ModelMetadata, ServerMetadata } from '../protocol/schemas.ts';
import type { Manifest } from '../models/manifest.ts';

type JsonObject = Record<string, unknown>;

function component(schema: z.ZodType): JsonObject {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as JsonObject;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonObject, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);

export function openApiDocument(manifests: readonly Manifest[]): JsonObject {
  const modelName = {
    name: 'name',
    in: 'path',
    required: true,
    description: 'the model',
    schema: { type: 'string', enum: manifests.map((m) => m.name) },
  };
  const version = { name: 'version', in: 'path', required: true, description: "one of the model's versions", schema: { type: 'string' } };
  const modelOperations = (withVersion: boolean) => {
    const parameters = withVersion ? [modelName, version] : [modelName];
    const suffix = withVersion ? ' (a given version)' : ' (its default version)';
    return {
      metadata: {
        get: {
          summary: `Model metadata${suffix}`,
          parameters,
          responses: { 200: json(ref('ModelMetadata'), 'name, versions, inputs and outputs (-1: any size)'), 404: error('unknown model or version') },
        },
      },
      ready: {
        get: {
          summary: `Model readiness${suffix}`,
          parameters,
          responses: { 200: json({ type: 'object' }, 'ready: its session exists here, or its backend has it ready'), 503: error('cannot serve now, with the reason') },
        },
      },
      infer: {
        post: {
          summary: `Run the model${suffix}`,
          description:
            'JSON, or the binary tensor data extension (application/octet-stream with Inference-Header-Content-Length). ' +
            'The answer says where it ran in x-edgeinfer-tier (edge, gpu or edge-fallback) and carries x-request-id.',
          parameters,
          security: [{ bearer: [] }, { apiKey: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('InferRequest') },
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
            },
          },
          responses: {
            200: json(ref('InferResponse'), 'the outputs asked for, in the order asked'),
            400: error('malformed JSON or tensor, or an input the model cannot run on'),
            401: error('no credential, or one that is malformed, unknown, revoked or expired (with WWW-Authenticate)'),
            403: error('a valid credential that may not run this model'),
            404: error('unknown model or version'),
            413: error("body, values, elements or batch over the model's limits"),
            415: error('content type other than JSON or octet-stream'),
            429: error("a rate limit reached: the key's plan, or failed authentications from this address (RateLimit-* headers, Retry-After)"),
            502: error('the backend refused the edge or answered something unreadable'),
            503: error('the model cannot serve now, or rate limiting is unavailable under RATE_LIMIT_FAILURE_MODE=closed (Retry-After when it may soon)'),
          },
        },
      },
    };
  };
  const latest = modelOperations(false);
  const versioned = modelOperations(true);
  return {
    openapi: '3.1.0',
    info: {
      title: 'edgeinfer',
      version: pkg.version,
      description: 'ONNX models over the Open Inference Protocol v2, from the edge and a GPU backend.',
    },
    paths: {
      '/v2': { get: { summary: 'Server metadata', responses: { 200: json(ref('ServerMetadata'), 'name, version, protocol extensions') } } },
      '/v2/health/live': { get: { summary: 'Liveness', responses: { 200: json({ type: 'object' }, 'live') } } },
      '/v2/health/ready': { get: { summary: 'Readiness', responses: { 200: json({ type: 'object' }, 'ready') } } },
      '/v2/models': { get: { summary: 'Every model', responses: { 200: json({ type: 'object', properties: { models: { type: 'array', items: ref('ModelMetadata') } } }, 'their metadata') } } },
      '/v2/models/{name}': latest.metadata,
      '/v2/models/{name}/ready': latest.ready,
      '/v2/models/{name}/infer': latest.infer,
      '/v2/models/{name}/versions/{version}': versioned.metadata,
      '/v2/models/{name}/versions/{version}/ready': versioned.ready,
      '/v2/models/{name}/versions/{version}/infer': versioned.infer,
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key (ei_live_…) or a JWT from the configured issuer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'an API key (ei_live_…)' },
      },
      schemas: {
        ServerMetadata: component(ServerMetadata),
        ModelMetadata: component(ModelMetadata),
        InferRequest: component(InferRequest),
        InferResponse: component(InferResponse),
        Error: component(ErrorResponse),
      },
    },
  };
}
