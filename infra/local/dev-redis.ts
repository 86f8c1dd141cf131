// `npm run dev:redis`: a local Upstash-compatible Redis for development, until Ctrl-C.
//   npm run dev:redis -- [--port 8079] [--redis-port <free>] [--token <token>]

import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startLocalUpstash } from './local-upstash.ts';

const port = z.coerce.number().int().min(0).max(65_535);
const argsSchema = z.object({
  port: port.default(8079),
  'redis-port': port.optional(),
  // The endpoint listens on loopback only, so a fixed default token costs nothing and lets the
  // edge's .dev.vars stay the same between runs.
  token: z.string().min(1).default('edgeinfer-local-redis'),
});

const { values } = parseArgs({
  options: { port: { type: 'string' }, 'redis-port': { type: 'string' }, token: { type: 'string' } },
});
const parsed = argsSchema.safeParse(values);
if (!parsed.success) {
  console.error(`dev:redis: ${z.prettifyError(parsed.error)}`);
  process.exit(2);
}
const args = parsed.data;

try {
  const local = await startLocalUpstash({
    port: args.port,
    redisPort: args['redis-port'],
    token: args.token,
    log: (line) => console.error(line),
  });
  console.log(
    `Upstash-compatible REST endpoint at ${local.url}, in front of redis-server on 127.0.0.1:${local.redisPort} (nothing is saved)`,
  );
  console.log('Give the edge these (e.g. in .dev.vars):');
  console.log(`UPSTASH_REDIS_REST_URL=${local.url}`);
  console.log(`UPSTASH_REDIS_REST_TOKEN=${local.token}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void local.stop().then(() => process.exit(0));
    });
  }
} catch (err) {
  console.error(`dev:redis: ${(err as Error).message}`);
  process.exit(1);
}
