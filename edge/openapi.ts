// The OpenAPI 3.1 description of the edge's API, generated from its routes: each route is declared
// with `createRoute` (@hono/zod-openapi) from the same zod schemas that validate its requests
// (protocol/), so no path, parameter or schema is listed twice and the document cannot drift from what
// is served. This file holds what the routes share: the named schemas, the error answers, the
// validation hook, and the document's header.

import { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { z } from 'zod';
import pkg from '../package.json' with { type: 'json' };
import { InvalidInput } from '../protocol/errors.ts';
import { describeIssues, ErrorResponse, InferRequest, InferResponse, ModelMetadata, ServerMetadata } from '../protocol/schemas.ts';
import { OcrBatchResponse, OcrRequestBody, OcrResponse, VadBatchResponse, VadRequestBody, VadResponse } from '../protocol/tasks.ts';
import { UsageResponse } from '../protocol/usage.ts';
import { Job, JobAccepted, webhookRequestHeader } from '../protocol/jobs.ts';

/** The protocol's schemas under the names the document's components give them. */
export const schemas = {
  ServerMetadata: ServerMetadata.openapi('ServerMetadata'),
  ModelMetadata: ModelMetadata.openapi('ModelMetadata'),
  InferResponse: InferResponse.openapi('InferResponse'),
  Error: ErrorResponse.openapi('Error'),
  VadResponse: VadResponse.openapi('VadResponse'),
  VadBatchResponse: VadBatchResponse.openapi('VadBatchResponse'),
  OcrResponse: OcrResponse.openapi('OcrResponse'),
  OcrBatchResponse: OcrBatchResponse.openapi('OcrBatchResponse'),
  UsageResponse: UsageResponse.openapi('UsageResponse'),
  Job: Job.openapi('Job'),
  JobAccepted: JobAccepted.openapi('JobAccepted'),
};

/**
 * Request bodies the routes read themselves, within a byte limit, and so reference by name (a zod
 * schema in a route's body would make the validator read the body whole): registered as components.
 */
const selfReadBodies = { InferRequest, VadRequest: VadRequestBody, OcrRequest: OcrRequestBody };

/** A JSON answer: its schema, what it means, and an example when one helps a reader. */
export function jsonResponse(schema: z.ZodType, description: string, example?: unknown) {
  return { description, content: { 'application/json': { schema, ...(example !== undefined && { example }) } } };
}

export const errorResponse = (description: string) => jsonResponse(schemas.Error, description, { error: description });

/** The answers every route behind authentication and the rate limit may give. */
export const gatewayErrors = {
  401: errorResponse('no credential, or one that is malformed, unknown, revoked or expired (with WWW-Authenticate)'),
  429: errorResponse(
    "a rate limit reached: the key's plan, or failed authentications from this address (RateLimit-* headers, Retry-After)",
  ),
  502: errorResponse('the backend refused the edge or answered something unreadable'),
  503: errorResponse(
    'cannot serve now: the backend is down or its breaker open, or rate limiting is unavailable under RATE_LIMIT_FAILURE_MODE=closed (Retry-After when it may soon)',
  ),
};

/** The headers every model-running route reads: async jobs (edge/jobs/) and the response cache (edge/cache/). */
export const modelRunParameters = [
  {
    name: 'Prefer',
    in: 'header' as const,
    required: false,
    description: "respond-async (RFC 7240): answer 202 at once with the job's Location; the result is read at GET /v1/jobs/{id}",
    schema: { type: 'string' as const },
  },
  {
    name: webhookRequestHeader,
    in: 'header' as const,
    required: false,
    description: 'with respond-async: a URL the finished job is POSTed to, signed as Standard Webhooks do (https in production)',
    schema: { type: 'string' as const, format: 'uri' },
  },
  {
    name: 'Cache-Control',
    in: 'header' as const,
    required: false,
    description: 'no-store bypasses the response cache; every answer says what the cache did in Cache-Status (RFC 9211)',
    schema: { type: 'string' as const },
  },
];

/** The 202 of a model-running route asked to respond-async. */
export const acceptedResponse = {
  202: {
    ...jsonResponse(
      schemas.JobAccepted,
      'accepted as a job (Prefer: respond-async): Location /v1/jobs/{id}, Preference-Applied: respond-async',
    ),
    headers: { Location: { schema: { type: 'string' as const } }, 'Preference-Applied': { schema: { type: 'string' as const } } },
  },
};

export const authenticated: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

/** Bytes as a person reads them: 33554432 → "32 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  if (value >= 1024 && unit < units.length - 1) return `${(value / 1024).toFixed(1)} ${units[unit + 1]}`;
  return `${value} ${units[unit]}`;
}

/** Query parameters described from a zod object schema (for routes whose own reader validates them). */
export function queryParameters(schema: z.ZodObject) {
  const { properties = {}, required = [] } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, { description, ...property }]) => ({
    name,
    in: 'query' as const,
    required: required.includes(name),
    ...(typeof description === 'string' && { description }),
    schema: property,
  }));
}

/**
 * A router whose declared routes validate through @hono/zod-validator; a request that fails is an
 * InvalidInput (400), answered by the app's one error mapping like every other.
 */
export function apiRoutes<E extends Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw new InvalidInput(`invalid ${result.target}: ${describeIssues(result.error)}`);
    },
  });
}

/** The document of every route declared on `app` and the routers mounted on it. */
export function openApiDocument<E extends Env>(app: OpenAPIHono<E>): Record<string, unknown> {
  for (const [name, schema] of Object.entries(selfReadBodies)) app.openAPIRegistry.register(name, schema);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'an API key (ei_live_…) or a JWT from the configured issuer',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: 'an API key (ei_live_…)',
  });
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'edgeinfer',
      version: pkg.version,
      description: 'ONNX models over the Open Inference Protocol v2, from the edge and a GPU backend.',
    },
  }) as unknown as Record<string, unknown>;
}
