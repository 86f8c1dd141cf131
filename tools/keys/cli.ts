// `npm run keys -- <command>`: API keys in the edge's API_KEYS namespace, the local one (what
// `npm start` serves) unless `--remote` names the deployed one.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ModelAllowance, Plan } from '../../protocol/api-keys.ts';
import { auditLog } from '../../protocol/audit.ts';
import { createKey, describeKeys, ensureDevKey, type KeyAudit, revokeKey } from './commands.ts';
import { keyNamespace } from './kv.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const usage = `usage: npm run keys -- <command> [--remote] [--persist-to <dir>]
  create --owner <name> --plan free|pro --models <a,b>|'*'   make a key and print it, once
  list                                                        every key's id, owner, plan, models, dates
  revoke <id>                                                 refuse the key from now on
  dev-key                                                     make the local development key once (npm start runs it)
--remote: the deployed namespace (wrangler login); --persist-to: local state other than .wrangler/state`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    owner: { type: 'string' },
    plan: { type: 'string' },
    models: { type: 'string' },
    remote: { type: 'boolean', default: false },
    'persist-to': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const [command, ...rest] = positionals;
const kv = keyNamespace({ repoRoot, remote: values.remote, persistTo: values['persist-to'] });
const where = values.remote ? 'the deployed API_KEYS namespace' : 'the local API_KEYS namespace';
// Audit lines go to stderr, so stdout stays what a script reads (the key, once).
const events: KeyAudit = { audit: auditLog((line) => console.error(line)), namespace: values.remote ? 'remote' : 'local' };

function fail(message: string): never {
  console.error(`keys ${command ?? ''}: ${message}`);
  process.exit(2);
}

async function create(): Promise<void> {
  if (!values.owner) fail('--owner is required');
  const plan = Plan.safeParse(values.plan ?? 'free');
  if (!plan.success) fail(`--plan must be one of ${Plan.options.join(', ')}`);
  const models = ModelAllowance.safeParse(
    values.models === '*'
      ? '*'
      : (values.models ?? '')
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean),
  );
  if (!models.success) fail("--models must name models (comma-separated) or be '*'");
  const { apiKey, record } = await createKey(kv, { owner: values.owner, plan: plan.data, models: models.data }, events);
  console.log(
    `Created ${record.id} in ${where} for ${record.owner} (plan ${record.plan}, models ${record.models === '*' ? '*' : record.models.join(',')}).`,
  );
  console.log('The key is shown only now and stored only as its SHA-256. Keep it somewhere safe:\n');
  console.log(`  ${apiKey}\n`);
}

async function list(): Promise<void> {
  const entries = await kv.list();
  console.log(entries.length === 0 ? `No keys in ${where}.` : describeKeys(entries));
}

async function revoke(): Promise<void> {
  const [id] = rest;
  if (!id) fail('name the key: revoke <id> (see list)');
  const record = await revokeKey(kv, id, events);
  if (!record) fail(`no key ${id} in ${where}`);
  console.log(`Revoked ${record.id} (${record.owner}) at ${record.revokedAt}.`);
  console.log(
    values.remote
      ? 'Isolates that have not cached it refuse it once KV carries the change (up to ~60 s); those that have, within API_KEY_CACHE_TTL_MS after that.'
      : 'The local edge refuses it once its cache entry expires (API_KEY_CACHE_TTL_MS, 1 s by default).',
  );
}

async function devKey(): Promise<void> {
  if (values.remote) fail('the development key lives only in the local namespace');
  const outcome = await ensureDevKey(kv, process.env.EDGEINFER_DEV_KEY || undefined, events);
  if (outcome.status === 'created') {
    console.log(`Created the local development key ${outcome.record.id} (plan pro, every model). It is shown only now:\n`);
    console.log(`  ${outcome.apiKey}\n`);
    console.log(`Send it as Authorization: Bearer <key>. Set EDGEINFER_DEV_KEY to choose the value yourself.`);
  } else if (outcome.status === 'chosen') {
    console.log(`The local development key is EDGEINFER_DEV_KEY (${outcome.record.id}${outcome.created ? ', just added' : ''}).`);
  } else {
    console.log(
      `The local development key is ${outcome.record.id}, printed when it was created; set EDGEINFER_DEV_KEY to choose one, or npm run keys -- create.`,
    );
  }
}

const commands: Record<string, () => Promise<void>> = { create, list, revoke, 'dev-key': devKey };
const run = command ? commands[command] : undefined;
if (!run || values.help) {
  console.error(usage);
  process.exit(command && !values.help ? 2 : 0);
}
try {
  await run();
} catch (err) {
  console.error(`keys ${command}: ${(err as Error).message}`);
  process.exit(1);
}
