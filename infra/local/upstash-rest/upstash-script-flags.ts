// Upstash accepts a script flag redis-server refuses: `#!lua flags=allow-key-locking`, which
// @upstash/ratelimit puts on its scripts. It only lets Upstash lock the script's KEYS instead of the
// whole database; redis-server runs every script alone anyway, so dropping the flag keeps the
// semantics. The rewritten body has another SHA-1, so the SHAs clients know (of the body they sent)
// are mapped to the ones redis-server knows, and SCRIPT LOAD answers the client's.
// https://upstash.com/docs/redis/features/key-locking

import { createHash } from 'node:crypto';
import type { Command } from './commands.ts';
import type { RespValue } from './resp.ts';

const upstashOnlyFlags = new Set(['allow-key-locking']);

export interface TranslatedCommand {
  command: Command;
  /** Turns redis-server's reply into the one Upstash would give; identity when nothing changed. */
  reply(reply: RespValue): RespValue;
}

export class UpstashScriptFlags {
  private readonly redisShaByClientSha = new Map<string, string>();

  translate(command: Command): TranslatedCommand {
    const name = command[0]!.toLowerCase();
    if ((name === 'eval' || name === 'eval_ro') && command[1] !== undefined) {
      return unchangedReply([command[0]!, this.rewrite(command[1]).body, ...command.slice(2)]);
    }
    if ((name === 'evalsha' || name === 'evalsha_ro') && command[1] !== undefined) {
      return unchangedReply([command[0]!, this.redisSha(command[1]), ...command.slice(2)]);
    }
    if (name === 'script') return this.translateScript(command);
    return unchangedReply(command);
  }

  private translateScript(command: Command): TranslatedCommand {
    const subcommand = command[1]?.toLowerCase();
    if (subcommand === 'load' && command[2] !== undefined) {
      const { body, clientSha } = this.rewrite(command[2]);
      return { command: [command[0]!, command[1]!, body], reply: (reply) => (Buffer.isBuffer(reply) ? Buffer.from(clientSha) : reply) };
    }
    if (subcommand === 'exists') {
      return unchangedReply([command[0]!, command[1]!, ...command.slice(2).map((sha) => this.redisSha(sha))]);
    }
    if (subcommand === 'flush') this.redisShaByClientSha.clear();
    return unchangedReply(command);
  }

  private rewrite(script: string): { body: string; clientSha: string } {
    const clientSha = sha1Hex(script);
    const body = withoutUpstashOnlyFlags(script);
    if (body !== script) this.redisShaByClientSha.set(clientSha, sha1Hex(body));
    return { body, clientSha };
  }

  private redisSha(sha: string): string {
    return this.redisShaByClientSha.get(sha.toLowerCase()) ?? sha;
  }
}

/** Drops Upstash-only flags from a script's shebang line (`#!lua flags=a,b`), keeping the others. */
export function withoutUpstashOnlyFlags(script: string): string {
  const shebang = /^#!(\S+)([^\n]*)/.exec(script);
  if (!shebang) return script;
  const [line, engine, rest] = shebang as unknown as [string, string, string];
  let changed = false;
  const options = rest
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((option) => {
      if (!option.startsWith('flags=')) return [option];
      const flags = option.slice('flags='.length).split(',');
      const kept = flags.filter((flag) => !upstashOnlyFlags.has(flag));
      if (kept.length === flags.length) return [option];
      changed = true;
      return kept.length > 0 ? [`flags=${kept.join(',')}`] : [];
    });
  if (!changed) return script;
  // Same line count, so Lua's error messages name the same lines as in the script the client sent.
  return `#!${[engine, ...options].join(' ')}${script.slice(line.length)}`;
}

function unchangedReply(command: Command): TranslatedCommand {
  return { command, reply: (reply) => reply };
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}
