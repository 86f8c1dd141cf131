// Units of work: what a request costs, in one number that drives the rate limit, the usage record, the
// price and the `x-edgeinfer-units` header. Each model and task declares its units in its manifest;
// `countUnits` is the one function that turns a request's measured work into units.

import { z } from 'zod';

/** What a unit measures: input tensor elements (`/v2`), milliseconds of audio or pixels (task files). */
export const workKinds = ['input_elements', 'audio_ms', 'pixels'] as const;
export type WorkKind = (typeof workKinds)[number];

export const UnitsSpec = z.object({
  work: z.enum(workKinds),
  /** One unit per started `workPerUnit` of that work, at least one per request (per file for tasks). */
  workPerUnit: z.number().positive(),
  /**
   * For work the GPU backend runs: one unit per started `gpuSessionMsPerUnit` of the run time the
   * backend measured and signed (protocol/run-time.ts), when that is more than the work's units. The
   * edge's own runs are charged by work alone: a Worker's clock stands still while JavaScript runs.
   */
  gpuSessionMsPerUnit: z.number().positive().optional(),
});
export type UnitsSpec = z.infer<typeof UnitsSpec>;

/**
 * A request's units: per piece of work (one `/v2` request, or each file of a task request) one unit
 * per started `workPerUnit`, at least one; for a GPU run with a trusted run time, its session units
 * when they are more. Known before the run except for that last term, which only ever adds.
 */
export function countUnits(spec: UnitsSpec, workAmounts: readonly number[], gpuSessionMs?: number): number {
  const byWork = workAmounts.reduce((units, amount) => units + Math.max(1, Math.ceil(amount / spec.workPerUnit)), 0);
  if (gpuSessionMs === undefined || spec.gpuSessionMsPerUnit === undefined) return byWork;
  return Math.max(byWork, Math.ceil(gpuSessionMs / spec.gpuSessionMsPerUnit));
}
