// `npm run usage -- export --from YYYY-MM-DD --to YYYY-MM-DD [--format csv|json]`: per key, UTC day and
// model, the requests, units and cost metered, from the store `/v1/usage` reads (tools/usage/store.ts),
// ready for an invoice or a billing system's usage records.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { exportLines } from '../../protocol/usage.ts';
import { exportCsv, exportJson } from './format.ts';
import { d1Source, redisSource } from './store.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const usage = `usage: npm run usage -- export --from YYYY-MM-DD --to YYYY-MM-DD [--format csv|json] [--currency USD]
                                  [--remote] [--persist-to <dir>]
Reads Upstash Redis when UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are set (production),
else the USAGE_DB D1 database: the local one \`npm start\` writes, or with --remote the deployed one.
--currency names the currency of the configured prices (BILLING_CURRENCY; default USD).`;

const Day = z.iso.date();
const Options = z
  .object({
    from: Day,
    to: Day,
    format: z.enum(['csv', 'json']),
    currency: z.string().regex(/^[A-Z]{3}$/),
  })
  .refine(({ from, to }) => from <= to, { message: '--from must not be after --to' });

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string', default: 'csv' },
    currency: { type: 'string', default: process.env.BILLING_CURRENCY || 'USD' },
    remote: { type: 'boolean', default: false },
    'persist-to': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(message: string): never {
  console.error(`usage: ${message}`);
  process.exit(2);
}

if (values.help || positionals[0] !== 'export') {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}
const parsed = Options.safeParse(values);
if (!parsed.success) fail(`${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}\n${usage}`);
const { from, to, format, currency } = parsed.data;

const { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token } = process.env;
if (Boolean(url) !== Boolean(token)) fail('set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or neither');
const source = url && token ? redisSource(url, token) : d1Source({ repoRoot, remote: values.remote, persistTo: values['persist-to'] });

try {
  const lines = exportLines(await source.rows(from, to), currency);
  process.stdout.write(format === 'csv' ? exportCsv(lines) : exportJson({ from, to }, currency, lines));
  console.error(`${lines.length} lines from ${source.name}, ${from} to ${to}.`);
} catch (err) {
  console.error(`usage export: ${(err as Error).message}`);
  process.exit(1);
}
