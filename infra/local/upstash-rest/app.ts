// The Upstash-REST-compatible app, in the subset @upstash/redis uses: one command POSTed to `/`,
// a batch to `/pipeline`, an atomic batch to `/multi-exec`, each answered in Upstash's JSON shapes.

import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorResponse, InvalidInput, NotFound, PayloadTooLarge } from '../../../protocol/errors.ts';
import { requireToken } from './auth.ts';
import { parseCommand, parseCommands } from './commands.ts';
import { CommandRunner } from './command-runner.ts';
import type { RedisPool } from './redis-pool.ts';
import { responseEncodingOf, toUpstashItem } from './upstash-json.ts';

export interface UpstashRestDeps {
  pool: RedisPool;
  token: string;
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

export function createUpstashRestApp(deps: UpstashRestDeps): Hono {
  const app = new Hono();
  const log = deps.log ?? (() => {});
  const maxBodyBytes = deps.maxBodyBytes ?? 16 * 1024 * 1024;
  const runner = new CommandRunner(deps.pool);

  app.use('*', requireToken(deps.token));
  app.use(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new PayloadTooLarge(`ERR request body is larger than ${maxBodyBytes} bytes`);
      },
    }),
  );

  app.post('/', async (c) => {
    const [reply] = await runner.run([parseCommand(await jsonBody(c))]);
    const item = toUpstashItem(reply!, encodingOf(c));
    if ('error' in item) throw new InvalidInput(item.error);
    return c.json(item);
  });

  app.post('/pipeline', async (c) => {
    const replies = await runner.run(parseCommands(await jsonBody(c)));
    const encoding = encodingOf(c);
    return c.json(replies.map((reply) => toUpstashItem(reply, encoding)));
  });

  app.post('/multi-exec', async (c) => {
    const execReply = await runner.runTransaction(parseCommands(await jsonBody(c)));
    const encoding = encodingOf(c);
    return c.json(execReply.map((reply) => toUpstashItem(reply, encoding)));
  });

  app.notFound((c) =>
    errorResponse(
      new NotFound(`ERR no route for ${c.req.method} ${new URL(c.req.url).pathname}; POST a command to /, /pipeline or /multi-exec`),
    ),
  );
  app.onError((err) =>
    errorResponse(err, (unexpected) => log(`upstash-rest: unexpected error: ${(unexpected as Error)?.stack ?? String(unexpected)}`)),
  );
  return app;
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw new InvalidInput('ERR malformed request body: not JSON');
  }
}

function encodingOf(c: Context) {
  return responseEncodingOf(c.req.header('upstash-encoding'));
}
