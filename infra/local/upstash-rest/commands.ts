// The request bodies Upstash's REST API takes: one command as a JSON array (`["SET","k","v"]`), or an
// array of them for `/pipeline` and `/multi-exec`. @upstash/redis sends numbers and booleans unquoted.

import { z } from 'zod';
import { InvalidInput } from '../../../protocol/errors.ts';

export type Command = string[];

const argument = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const commandSchema = z.array(argument).min(1, 'a command is a non-empty array: ["COMMAND", "arg", …]');
const commandsSchema = z.array(commandSchema).min(1, 'send a non-empty array of commands');

/**
 * Commands that change the state of the connection they run on. Requests share pooled
 * connections, so these would leak into the next request, or (MULTI) belong to `/multi-exec`.
 */
const connectionStateCommands = new Set([
  'auth',
  'hello',
  'select',
  'reset',
  'quit',
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'monitor',
  'sync',
  'psync',
  'replconf',
]);

export function parseCommand(body: unknown): Command {
  return allowed(parse(commandSchema, body));
}

export function parseCommands(body: unknown): Command[] {
  return parse(commandsSchema, body).map(allowed);
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => (issue.path.length ? `at [${issue.path.join('][')}]: ` : '') + issue.message);
    throw new InvalidInput(`ERR malformed request body: ${issues.join('; ')}`);
  }
  return parsed.data;
}

function allowed(command: Command): Command {
  const name = command[0]!.toLowerCase();
  const subcommand = command[1]?.toLowerCase();
  if (connectionStateCommands.has(name) || (name === 'client' && subcommand === 'reply')) {
    const hint = name === 'multi' || name === 'exec' ? '; send the commands to /multi-exec instead' : '';
    throw new InvalidInput(`ERR '${name}' is not supported by this REST endpoint${hint}`);
  }
  return command;
}
