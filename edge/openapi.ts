// The OpenAPI 3.1 description of the edge's public API, generated from the same zod schemas that
// validate requests (protocol/schemas.ts, protocol/tasks.ts) and the task manifests' limits, so the
// document cannot drift from what is enforced.

import { z } from 'zod';
import pkg from '../package.json' with { type: 'json' };
import { ErrorResponse, InferRequest, InferResponse, ModelMetadata, ServerMetadata } from '../protocol/schemas.ts';
import { UsageResponse } from '../protocol/usage.ts';
import {
  audioContentTypes,
  imageContentTypes,
  OcrBatchResponse,
  OcrRequestBody,
  OcrResponse,
  VadBatchResponse,
  VadOptions,
  VadRequestBody,
  VadResponse,
} from '../protocol/tasks.ts';
import type { Manifest } from '../models/manifest.ts';
import { ocrTask, vadTask } from '../models/tasks/catalog.ts';
import { Job, JobAccepted, webhookRequestHeader } from '../protocol/jobs.ts';

type JsonObject = Record<string, unknown>;

function component(schema: z.ZodType): JsonObject {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as JsonObject;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonObject, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);

const gatewayErrors = {
  402: error(
    "the key's monthly budget (USAGE_BUDGETS: units or cost) is spent, on routes that run a model; the message names it and when it renews",
  ),
  401: error('no credential, or one that is malformed, unknown, revoked or expired (with WWW-Authenticate)'),
  429: error("a rate limit reached: the key's plan, or failed authentications from this address (RateLimit-* headers, Retry-After)"),
  502: error('the backend refused the edge or answered something unreadable'),
  503: error(
    'cannot serve now: the backend is down, or rate limiting is unavailable under RATE_LIMIT_FAILURE_MODE=closed (Retry-After when it may soon)',
  ),
};

// Every model-running route: async jobs (edge/jobs/) and the response cache (edge/cache/).
const modelRunHeaders = [
  {
    name: 'Prefer',
    in: 'header',
    required: false,
    description: "`respond-async` (RFC 7240): answer 202 at once with the job's Location; the result is read at GET /v1/jobs/{id}",
    schema: { type: 'string' },
  },
  {
    name: webhookRequestHeader,
    in: 'header',
    required: false,
    description: 'with respond-async: a URL the finished job is POSTed to, signed as Standard Webhooks do (https in production)',
    schema: { type: 'string', format: 'uri' },
  },
  {
    name: 'Cache-Control',
    in: 'header',
    required: false,
    description: '`no-store` bypasses the response cache; every answer says what the cache did in Cache-Status (RFC 9211)',
    schema: { type: 'string' },
  },
];
const accepted = {
  202: {
    ...json(ref('JobAccepted'), 'accepted as a job (Prefer: respond-async): Location /v1/jobs/{id}, Preference-Applied: respond-async'),
    headers: { Location: { schema: { type: 'string' } }, 'Preference-Applied': { schema: { type: 'string' } } },
  },
};

/** `POST /v1/vad` or `POST /v1/ocr`: the raw file, or JSON with one file or a batch in base64. */
function taskOperation(spec: {
  summary: string;
  description: string;
  rawTypes: readonly string[];
  name: string;
  query: JsonObject[];
  badInput: string;
  tooLarge: string;
}) {
  const raw = Object.fromEntries(spec.rawTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]));
  return {
    post: {
      summary: spec.summary,
      description: `${spec.description} The answer says where it ran in x-edgeinfer-tier (edge or gpu) and which model versions answered in \`models\`; it carries x-request-id. A request counts against the rate limit by its units of work (seconds of audio, megapixels), which x-edgeinfer-units says, with their price in x-edgeinfer-cost.`,
      security: [{ bearer: [] }, { apiKey: [] }],
      parameters: [...spec.query, ...modelRunHeaders],
      requestBody: { required: true, content: { ...raw, 'application/json': { schema: ref(`${spec.name}Request`) } } },
      responses: {
        200: {
          description: 'one result for a file; `results`, one per file in order, for a batch',
          content: { 'application/json': { schema: { oneOf: [ref(`${spec.name}Response`), ref(`${spec.name}BatchResponse`)] } } },
        },
        ...accepted,
        400: error(spec.badInput),
        413: error(spec.tooLarge),
        415: error(`content type other than ${spec.rawTypes.join(', ')} or application/json, or an unsupported encoding`),
        ...gatewayErrors,
      },
    },
  };
}

/** The VAD options as query parameters, for a raw WAV body. */
function vadQueryParameters(): JsonObject[] {
  const { properties = {} } = component(VadOptions) as { properties?: Record<string, JsonObject> };
  return Object.entries(properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
}

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
          responses: {
            200: json(ref('ModelMetadata'), 'name, versions, inputs and outputs (-1: any size)'),
            404: error('unknown model or version'),
          },
        },
      },
      ready: {
        get: {
          summary: `Model readiness${suffix}`,
          parameters,
          responses: {
            200: json({ type: 'object' }, 'ready: its session exists here, or its backend has it ready'),
            503: error('cannot serve now, with the reason'),
          },
        },
      },
      infer: {
        post: {
          summary: `Run the model${suffix}`,
          description:
            'JSON, or the binary tensor data extension (application/octet-stream with Inference-Header-Content-Length). ' +
            'The answer says where it ran in x-edgeinfer-tier (edge, gpu or edge-fallback), what it cost in x-edgeinfer-units (units of work: input elements, or the GPU run time) and x-edgeinfer-cost (e.g. `0.0007 USD`), and carries x-request-id.',
          parameters: [...parameters, ...modelRunHeaders],
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
            ...accepted,
            400: error('malformed JSON or tensor, or an input the model cannot run on'),
            401: error('no credential, or one that is malformed, unknown, revoked or expired (with WWW-Authenticate)'),
            403: error('a valid credential that may not run this model'),
            404: error('unknown model or version'),
            413: error("body, values, elements or batch over the model's limits"),
            415: error('content type other than JSON or octet-stream'),
            429: error(
              "a rate limit reached: the key's plan, or failed authentications from this address (RateLimit-* headers, Retry-After)",
            ),
            502: error('the backend refused the edge or answered something unreadable'),
            503: error(
              'the model cannot serve now, or rate limiting is unavailable under RATE_LIMIT_FAILURE_MODE=closed (Retry-After when it may soon)',
            ),
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
      '/v2/models': {
        get: {
          summary: 'Every model',
          responses: {
            200: json({ type: 'object', properties: { models: { type: 'array', items: ref('ModelMetadata') } } }, 'their metadata'),
          },
        },
      },
      '/v2/models/{name}': latest.metadata,
      '/v2/models/{name}/ready': latest.ready,
      '/v2/models/{name}/infer': latest.infer,
      '/v2/models/{name}/versions/{version}': versioned.metadata,
      '/v2/models/{name}/versions/{version}/ready': versioned.ready,
      '/v2/models/{name}/versions/{version}/infer': versioned.infer,
      '/v1/vad': taskOperation({
        name: 'Vad',
        summary: 'Speech segments of a WAV recording',
        description: `PCM 16-bit or 32-bit float WAV, mono or more channels (mixed down), 8 to 48 kHz, up to ${vadTask.limits.maxAudioSeconds} s and ${vadTask.limits.maxFileBytes} bytes per file, at most ${vadTask.limits.maxBatchFiles} files per batch. Options as query parameters with a raw body, or \`options\` in JSON.`,
        rawTypes: audioContentTypes,
        query: vadQueryParameters(),
        badInput: 'empty body, a truncated or inconsistent WAV header, a sample rate outside 8–48 kHz, bad base64 or options',
        tooLarge: 'a file, recording or batch over the limits',
      }),
      '/v1/ocr': taskOperation({
        name: 'Ocr',
        summary: 'Text lines in a PNG or JPEG image',
        description: `Up to ${ocrTask.limits.maxPixels} pixels (checked from the header before decoding) and ${ocrTask.limits.maxFileBytes} bytes per file, at most ${ocrTask.limits.maxBatchFiles} files per batch.`,
        rawTypes: imageContentTypes,
        query: [],
        badInput: 'empty body, bytes that are not a PNG or JPEG, a truncated image, bad base64',
        tooLarge: 'a file, image (pixels) or batch over the limits',
      }),
      '/v1/jobs/{id}': {
        get: {
          summary: 'An async job: queued, running, succeeded (with the synchronous answer as result) or failed (with error)',
          security: [{ bearer: [] }, { apiKey: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: json(ref('Job'), 'the job; kept for JOB_RESULT_TTL_MS (24 h by default) after it finished'),
            404: error("no such job for this credential (another key's job answers the same)"),
            401: gatewayErrors[401],
          },
        },
      },
      '/v1/webhook-secret': {
        get: {
          summary: "The caller's whsec_ secret, which signs its jobs' webhook deliveries",
          security: [{ bearer: [] }, { apiKey: [] }],
          responses: {
            200: json({ type: 'object', properties: { secret: { type: 'string' } } }, 'the secret'),
            401: gatewayErrors[401],
            503: error('webhooks are not configured here (WEBHOOK_SIGNING_SECRET)'),
          },
        },
      },
      '/v1/usage': {
        get: {
          summary: "The caller's own usage by UTC day",
          security: [{ bearer: [] }, { apiKey: [] }],
          parameters: [
            { name: 'from', in: 'query', required: true, schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', required: true, schema: { type: 'string', format: 'date' } },
          ],
          responses: {
            200: json(
              { $ref: '#/components/schemas/UsageResponse' },
              'requests, units, cost, input elements, compute ms, requests by tier, task work (audio_ms, pixels) and per model, per day and in total',
            ),
            400: error('a bad date range'),
            ...gatewayErrors,
            503: error('the usage store did not answer within USAGE_READ_TIMEOUT_MS, or none is bound (Retry-After)'),
          },
        },
      },
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
        VadRequest: component(VadRequestBody),
        VadResponse: component(VadResponse),
        VadBatchResponse: component(VadBatchResponse),
        OcrRequest: component(OcrRequestBody),
        OcrResponse: component(OcrResponse),
        OcrBatchResponse: component(OcrBatchResponse),
        UsageResponse: component(UsageResponse),
        JobAccepted: component(JobAccepted),
        Job: component(Job),
      },
    },
  };
}
