// The usage store as `npm run usage` reaches it, the same one `/v1/usage` reads: Upstash Redis when
// UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are set (production), else the USAGE_DB D1
// database through wrangler's own `d1 execute`, run on this Node: `--local` (the state `npm start`
// writes, or `--persist-to`'s) or `--remote` (the deployed database, with the operator's login).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from '@upstash/redis';
import { readRowsFromRedis } from '../../protocol/usage-redis.ts';
import { type SqlRow, selectAllRows, usageRowsOfSql } from '../../protocol/usage-sql.ts';
import type { UsageRow } from '../../protocol/usage.ts';

const run = promisify(execFile);
const isoDay = /^\d{4}-\d{2}-\d{2}$/;

export interface UsageSource {
  /** Where the rows come from, for the operator's eyes. */
  name: string;
  rows(from: string, to: string): Promise<UsageRow[]>;
}

export function redisSource(url: string, token: string): UsageSource {
  const redis = new Redis({ url, token, enableTelemetry: false });
  return { name: `Upstash Redis at ${new URL(url).host}`, rows: (from, to) => readRowsFromRedis(redis, from, to) };
}

export function d1Source(options: { repoRoot: string; remote: boolean; persistTo?: string | undefined }): UsageSource {
  return {
    name: options.remote ? 'the deployed USAGE_DB (D1)' : 'the local USAGE_DB (D1)',
    async rows(from, to) {
      // `d1 execute` binds no parameters; the dates are checked to be YYYY-MM-DD before they are quoted.
      if (!isoDay.test(from) || !isoDay.test(to)) throw new Error('dates must be YYYY-MM-DD');
      const sql = selectAllRows.replace('?1', `'${from}'`).replace('?2', `'${to}'`);
      const wranglerJs = join(options.repoRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
      const args = [
        wranglerJs,
        'd1',
        'execute',
        'USAGE_DB',
        '--config',
        join(options.repoRoot, 'wrangler.toml'),
        options.remote ? '--remote' : '--local',
        ...(options.persistTo && !options.remote ? ['--persist-to', options.persistTo] : []),
        '--json',
        '--command',
        sql,
      ];
      let stdout: string;
      try {
        ({ stdout } = await run(process.execPath, args, {
          cwd: options.repoRoot,
          env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0' },
          maxBuffer: 256 * 1024 * 1024,
        }));
      } catch (err) {
        const { stderr, stdout: out } = err as { stderr?: string; stdout?: string };
        const detail = `${stderr ?? ''}${out ?? ''}`;
        // The edge creates the table with its first event: none yet is no usage yet.
        if (/no such table: usage_events/.test(detail)) return [];
        throw new Error(`wrangler d1 execute failed:\n${detail || (err as Error).message}`);
      }
      const results = JSON.parse(stdout.slice(stdout.indexOf('['))) as { results: SqlRow[] }[];
      return usageRowsOfSql(results.flatMap((result) => result.results));
    },
  };
}
