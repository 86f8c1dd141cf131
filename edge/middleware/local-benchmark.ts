// The baseline of `npm run bench:gateway`: no credential checked, no limit counted, one fixed caller
// so the handlers after it (metering) run as usual. Config refuses it unless BACKEND_URL is loopback.

import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../context.ts';
import type { Principal } from '../auth/principal.ts';

const benchmarkCaller: Principal = { kind: 'api-key', id: 'local-benchmark', owner: 'local-benchmark', plan: 'pro', models: '*' };

export function unauthenticatedLocalBenchmark(): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    c.set('principal', benchmarkCaller);
    await next();
  };
}
