// The answer of `GET /v1/usage`: a key's usage per UTC day and in total. The edge builds it
// (edge/metering.ts), the client validates it, both from this one schema.

import { z } from 'zod';

export const Usage = z.object({
  requests: z.number().int().nonnegative(),
  inputElements: z.number().nonnegative(),
  computeMs: z.number().nonnegative(),
  requestsByTier: z.record(z.string(), z.number().int().nonnegative()),
  /** Task work by unit (`audio_ms`, `pixels`); empty on days without task requests (and from edges older than it). */
  work: z.record(z.string(), z.number().nonnegative()).default({}),
});
export type Usage = z.infer<typeof Usage>;

export const DayUsage = Usage.extend({ date: z.string() });
export type DayUsage = z.infer<typeof DayUsage>;

export const UsageResponse = z.object({
  keyId: z.string(),
  from: z.string(),
  to: z.string(),
  days: z.array(DayUsage),
  total: Usage,
});
export type UsageResponse = z.infer<typeof UsageResponse>;
