// The Upstash-REST-compatible app, in the subset @upstash/redis uses: one command POSTed to `/`,
// a batch to `/pipeline`, an atomic batch to `/multi-exec`, each answered in Upstash's JSON shapes.

import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorResponse, InvalidInput, NotFound, PayloadTooLarge } from '../../../protocol/errors.ts';
import { requireToken } from './auth.ts';
import { type Command, parseCommand, parseCommands } from './commands.ts';
import type { RedisPool } from './redis-pool.ts';
import { RespError, type RespValue } from './resp.ts';
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

  app.use('*', requireToken(deps.token));
  app.use('*', bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new PayloadTooLarge(`ERR request body is larger than ${maxBodyBytes} bytes`);
    },
  }));

  app.post('/', async (c) => {
    const [reply] = await deps.pool.send([parseCommand(await jsonBody(c))]);
    const item = toUpstashItem(reply!, encodingOf(c));
    if ('error' in item) throw new InvalidInput(item.error);
    return c.json(item);
  });

  app.post('/pipeline', async (c) => {
    const replies = await deps.pool.send(parseCommands(await jsonBody(c)));
    const encoding = encodingOf(c);
    return c.json(replies.map((reply) => toUpstashItem(reply, encoding)));
  });

  app.post('/multi-exec', async (c) => {
    const execReply = await runTransaction(deps.pool, parseCommands(await jsonBody(c)));
    const encoding = encodingOf(c);
    return c.json(execReply.map((reply) => toUpstashItem(reply, encoding)));
  });

  app.notFound((c) => errorResponse(new NotFound(`ERR no route for ${c.req.method} ${new URL(c.req.url).pathname}; POST a command to /, /pipeline or /multi-exec`)));
  app.onError((err) => errorResponse(err, (unexpected) => log(`upstash-rest: unexpected error: ${(unexpected as Error)?.stack ?? String(unexpected)}`)));
  return app;
}

/**
 * MULTI, the commands and EXEC go out together on one connection, so Redis runs them as one
 * transaction. A command Redis refuses while queueing aborts all of them (EXECABORT), as in Redis.
 */
async function runTransaction(pool: RedisPool, commands: Command[]): Promise<RespValue[]> {
  const replies = await pool.send([['MULTI'], ...commands, ['EXEC']]);
  const execReply = replies.at(-1);
  if (Array.isArray(execReply)) return execReply;
  const queueError = replies.slice(1, -1).findIndex((reply) => reply instanceof RespError);
  const reason = queueError >= 0 ? ` (command ${queueError + 1}: ${(replies[queueError + 1] as RespError).message})` : '';
  const message = execReply instanceof RespError ? execReply.message : 'EXECABORT Transaction discarded';
  throw new InvalidInput(`${message}${reason}`);
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
