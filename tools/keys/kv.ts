// The API_KEYS namespace as `npm run keys` reaches it: through wrangler's own `kv key` commands, run on
// this Node, so `--local` writes exactly the state `wrangler dev` (`npm start`) reads, and `--remote`
// the deployed namespace with the operator's wrangler login. Each record is also the key's KV metadata,
// so `list` is one call.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiKeyRecord, apiKeyKvPrefix } from '../../protocol/api-keys.ts';

const run = promisify(execFile);

export interface KeyNamespaceOptions {
  repoRoot: string;
  /** The deployed namespace instead of the local one. */
  remote: boolean;
  /** Local state directory; wrangler's default (.wrangler/state, what `wrangler dev` reads) when absent. */
  persistTo?: string;
}

export interface KeyNamespace {
  list(): Promise<{ name: string; record: ApiKeyRecord }[]>;
  get(name: string): Promise<ApiKeyRecord | undefined>;
  put(name: string, record: ApiKeyRecord): Promise<void>;
}

export function keyNamespace(options: KeyNamespaceOptions): KeyNamespace {
  const target = [
    '--binding',
    'API_KEYS',
    '--config',
    join(options.repoRoot, 'wrangler.toml'),
    options.remote ? '--remote' : '--local',
    ...(options.persistTo && !options.remote ? ['--persist-to', options.persistTo] : []),
  ];
  const wrangler = async (args: string[]): Promise<string> => {
    const wranglerJs = join(options.repoRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
    try {
      const { stdout } = await run(process.execPath, [wranglerJs, 'kv', 'key', ...args, ...target], {
        cwd: options.repoRoot,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0' },
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (err) {
      const { stderr, stdout } = err as { stderr?: string; stdout?: string };
      throw new Error(`wrangler kv key ${args[0]} failed:\n${stderr || stdout || (err as Error).message}`);
    }
  };
  return {
    async list() {
      const stdout = await wrangler(['list', '--prefix', apiKeyKvPrefix]);
      const entries = JSON.parse(stdout.slice(stdout.indexOf('['))) as { name: string; metadata?: unknown }[];
      return entries.flatMap(({ name, metadata }) => {
        const record = ApiKeyRecord.safeParse(metadata);
        return record.success ? [{ name, record: record.data }] : [];
      });
    },
    async get(name) {
      const stdout = await wrangler(['get', name, '--text']);
      try {
        const record = ApiKeyRecord.safeParse(JSON.parse(stdout.trim()));
        return record.success ? record.data : undefined;
      } catch {
        return undefined; // wrangler prints "Value not found" for a missing name
      }
    },
    async put(name, record) {
      const json = JSON.stringify(record);
      await wrangler(['put', name, json, '--metadata', json]);
    },
  };
}
