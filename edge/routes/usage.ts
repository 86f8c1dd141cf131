// `GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD`: the caller's own usage by UTC day and in total, with
// units, cost and a breakdown per model. The key id comes from the caller's credential only, so no
// query can read another key's usage. A store that does not answer in time gives 503 with Retry-After.

import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { InvalidInput } from '../../protocol/errors.ts';
import { describeIssues } from '../../protocol/schemas.ts';
import { summarizeUsage, type UsageResponse } from '../../protocol/usage.ts';
import type { EdgeEnv } from '../context.ts';
import type { UsageMeter } from '../metering.ts';
import { apiRoutes, authenticated, errorResponse, gatewayErrors, jsonResponse, schemas } from '../openapi.ts';

/** The longest range one usage query may ask for. */
export const maxUsageDays = 92;

const Day = z.iso.date({ message: 'a date as YYYY-MM-DD' });
const UsageQuery = z
  .object({
    from: Day.openapi({ param: { description: 'the first UTC day' }, example: '2026-12-01' }),
    to: Day.openapi({ param: { description: `the last UTC day, at most ${maxUsageDays} days after from` }, example: '2026-12-04' }),
  })
  .refine(({ from, to }) => from <= to, { message: 'from must not be after to', path: ['from'] })
  .refine(({ from, to }) => (Date.parse(to) - Date.parse(from)) / 86_400_000 < maxUsageDays, {
    message: `at most ${maxUsageDays} days per query`,
    path: ['to'],
  });

export function usageRoutes(deps: { meter: UsageMeter; authenticate: MiddlewareHandler<EdgeEnv> }): OpenAPIHono<EdgeEnv> {
  const usage = apiRoutes<EdgeEnv>();
  const route = createRoute({
    method: 'get',
    path: '/usage',
    summary: "The caller's own usage by UTC day",
    security: authenticated,
    // Authentication first: a caller without a credential learns nothing, not even that its query is bad.
    middleware: [deps.authenticate],
    request: { query: UsageQuery },
    responses: {
      200: jsonResponse(
        schemas.UsageResponse,
        'requests, units, cost (in currency), input elements, compute milliseconds, requests by tier and task work (audio_ms, pixels), per day, per model and in total',
      ),
      400: errorResponse('a bad date range'),
      ...gatewayErrors,
      503: errorResponse('the usage store did not answer in time (Retry-After)'),
    },
  });
  usage.openapi(
    route,
    async (c) => {
      const { from, to } = c.req.valid('query');
      const keyId = c.get('principal').id;
      const rows = await deps.meter.rows(from, to, keyId);
      const answer: UsageResponse = { keyId, from, to, currency: deps.meter.currency, ...summarizeUsage(rows, from, to) };
      return c.json(answer, 200);
    },
    (result) => {
      if (!result.success) throw new InvalidInput(`invalid usage query: ${describeIssues(result.error)}`);
    },
  );
  return usage;
}
