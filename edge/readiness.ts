// What `GET /v2/health/ready` reports: the edge's dependencies (the API_KEYS namespace, Upstash Redis)
// and, for each model, whether it can be served now and where. Ready (200) only when everything the
// edge carries can be served: a gpu-tier model whose backend breaker is open, or an unreachable key
// store, makes it 503. The backend itself is not called: a health check must not wake a GPU instance
// that scaled to zero; its breaker says what the edge last learned of it.

import { z } from 'zod';
import { edgeCarriedVersion, type Manifest, servedBy } from '../models/manifest.ts';
import type { BreakerState } from './backend/circuit-breaker.ts';

/** How readiness reads a model's backend breaker: the one interface it needs of the backend client. */
export interface BreakerStates {
  breakerState(model: string): BreakerState;
}

export interface ReadinessDeps {
  manifests: readonly Manifest[];
  kv: { get(key: string): Promise<unknown> };
  /** Absent when UPSTASH_REDIS_REST_URL is not set. */
  redis: { ping(): Promise<unknown> } | undefined;
  /** Under `closed`, rate limiting that cannot reach Redis refuses requests: the edge is then not ready. */
  rateLimitFailureMode: 'open' | 'closed';
  /** Absent when no backend is configured (BACKEND_URL unset). */
  backend: BreakerStates | undefined;
  timeoutMs: number;
}

const Dependency = z.object({ ok: z.boolean(), detail: z.string() });
const ModelReadiness = z.object({
  tier: z.enum(['edge', 'gpu', 'auto']),
  /** Where a request without a version runs now: here (WASM), the backend, or nowhere. */
  servedBy: z.enum(['edge', 'backend', 'none']),
  breaker: z.enum(['closed', 'open', 'half-open', 'no-backend']),
  ready: z.boolean(),
});
export const ReadinessReport = z
  .object({
    ready: z.boolean(),
    dependencies: z.object({ apiKeys: Dependency, redis: Dependency, backend: Dependency }),
    models: z.record(z.string(), ModelReadiness),
  })
  .openapi('Readiness');
export type ReadinessReport = z.infer<typeof ReadinessReport>;

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

export async function checkReadiness(deps: ReadinessDeps): Promise<ReadinessReport> {
  const [kvFailure, redisFailure] = await Promise.all([
    probe(() => deps.kv.get('readiness-probe'), deps.timeoutMs),
    deps.redis ? probe(() => deps.redis!.ping(), deps.timeoutMs) : Promise.resolve(undefined),
  ]);
  const apiKeys = { ok: !kvFailure, detail: kvFailure ?? 'reachable' };
  const redis = !deps.redis
    ? { ok: true, detail: 'not configured: in-memory rate limits, no metering' }
    : { ok: !redisFailure, detail: redisFailure ? `${redisFailure} (rate limiting fails ${deps.rateLimitFailureMode})` : 'reachable' };
  const models: ReadinessReport['models'] = {};
  for (const manifest of deps.manifests) {
    const runsHere = servedBy(manifest, 'edge') && edgeCarriedVersion(manifest) !== undefined;
    const breaker = deps.backend ? deps.backend.breakerState(manifest.name) : 'no-backend';
    const backendUsable = breaker === 'closed' || breaker === 'half-open';
    // An auto-tier model falls back to the edge while its backend cannot answer; a gpu-tier one cannot.
    const where = manifest.tier === 'edge' ? 'edge' : backendUsable ? 'backend' : runsHere ? 'edge' : 'none';
    models[manifest.name] = { tier: manifest.tier, servedBy: where, breaker, ready: where !== 'none' };
  }
  const backend = !deps.backend
    ? { ok: true, detail: 'not configured: gpu-tier models answer 503' }
    : Object.values(models).some((m) => m.breaker === 'open')
      ? { ok: false, detail: 'breaker open for a model: the backend failed recently' }
      : { ok: true, detail: 'breaker closed (not called: a health check must not wake a GPU instance)' };
  const ready = apiKeys.ok && (redis.ok || deps.rateLimitFailureMode === 'open') && Object.values(models).every((model) => model.ready);
  return { ready, dependencies: { apiKeys, redis, backend }, models };
}
