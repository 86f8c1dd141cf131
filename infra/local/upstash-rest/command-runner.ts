// Runs parsed commands on redis-server as Upstash would: as a batch on one connection, or as one
// MULTI/EXEC transaction, with Upstash-only script flags translated on the way.

import { InvalidInput } from '../../../protocol/errors.ts';
import type { Command } from './commands.ts';
import type { RedisPool } from './redis-pool.ts';
import { RespError, type RespValue } from './resp.ts';
import { UpstashScriptFlags } from './upstash-script-flags.ts';

export class CommandRunner {
  private readonly pool: RedisPool;
  private readonly scriptFlags = new UpstashScriptFlags();

  constructor(pool: RedisPool) {
    this.pool = pool;
  }

  /** Runs the commands back to back on one connection and returns their replies in order. */
  async run(commands: Command[]): Promise<RespValue[]> {
    const translated = commands.map((command) => this.scriptFlags.translate(command));
    const replies = await this.pool.send(translated.map((t) => t.command));
    return replies.map((reply, i) => translated[i]!.reply(reply));
  }

  /**
   * MULTI, the commands and EXEC go out together on one connection, so Redis runs them as one
   * transaction. A command Redis refuses while queueing aborts all of them (EXECABORT), as in Redis.
   */
  async runTransaction(commands: Command[]): Promise<RespValue[]> {
    const translated = commands.map((command) => this.scriptFlags.translate(command));
    const replies = await this.pool.send([['MULTI'], ...translated.map((t) => t.command), ['EXEC']]);
    const execReply = replies.at(-1);
    if (Array.isArray(execReply)) return execReply.map((reply, i) => translated[i]!.reply(reply));
    const queueError = replies.slice(1, -1).findIndex((reply) => reply instanceof RespError);
    const reason = queueError >= 0 ? ` (command ${queueError + 1}: ${(replies[queueError + 1] as RespError).message})` : '';
    const message = execReply instanceof RespError ? execReply.message : 'EXECABORT Transaction discarded';
    throw new InvalidInput(`${message}${reason}`);
  }
}
