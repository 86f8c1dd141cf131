// The answer of `GET /v1/usage`, as edge/routes/usage.ts and edge/metering.ts build it. The edge
// declares it as interfaces rather than a schema, so the client holds the one schema it validates with.

import { z } from 'zod';

const Usage = z.object({
  requests: z.number().int().nonnegative(),
  inputElements: z.number().nonnegative(),
  computeMs: z.number().nonnegative(),
  requestsByTier: z.record(z.string(), z.number().int().nonnegative()),
});

export const UsageResponse = z.object({
  keyId: z.string(),
  from: z.string(),
  to: z.string(),
  days: z.array(Usage.extend({ date: z.string() })),
  total: Usage,
});
export type UsageResponse = z.infer<typeof UsageResponse>;
