// `GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD`: the caller's own usage by UTC day and in total, with
// units, cost and a breakdown per model. The key id comes from the caller's credential only, so no
// query can read another key's usage. A store that does not answer in time gives 503 with Retry-After.

import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { InvalidInput } from '../../protocol/errors.ts';
import { describeIssues } from '../../protocol/schemas.ts';
import { summarizeUsage, type UsageResponse } from '../../protocol/usage.ts';
import type { EdgeEnv } from '../context.ts';
import type { UsageMeter } from '../metering.ts';

/** The longest range one usage query may ask for. */
export const maxUsageDays = 92;

const Day = z.iso.date({ message: 'a date as YYYY-MM-DD' });
const UsageQuery = z
  .object({ from: Day, to: Day })
  .refine(({ from, to }) => from <= to, { message: 'from must not be after to', path: ['from'] })
  .refine(({ from, to }) => (Date.parse(to) - Date.parse(from)) / 86_400_000 < maxUsageDays, {
    message: `at most ${maxUsageDays} days per query`,
    path: ['to'],
  });

export function usageRoutes(deps: { meter: UsageMeter; authenticate: MiddlewareHandler<EdgeEnv> }): Hono<EdgeEnv> {
  const usage = new Hono<EdgeEnv>();
  usage.get('/usage', deps.authenticate, async (c) => {
    const parsed = UsageQuery.safeParse(c.req.query());
    if (!parsed.success) throw new InvalidInput(`invalid usage query: ${describeIssues(parsed.error)}`);
    const { from, to } = parsed.data;
    const keyId = c.get('principal').id;
    const rows = await deps.meter.rows(from, to, keyId);
    const answer: UsageResponse = { keyId, from, to, currency: deps.meter.currency, ...summarizeUsage(rows, from, to) };
    return c.json(answer);
  });
  return usage;
}
