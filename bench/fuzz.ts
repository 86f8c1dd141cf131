// `npm run fuzz`: generated hostile infer requests (test/support/hostile-requests.ts) to every model
// version on each tier, the backend as its own process (`node gpu-backend/main.ts`) and the edge in
// workerd forwarding to it, and after each one a normal request to the same model version through the
// same tier. Prints what came back: crashes (the backend process exited, or a tier stopped answering),
// poisoned sessions (the normal request after failed), 5xx, and every status with its count.
// Goal (issue 13): 0 crashes, 0 poisoned sessions, 0 5xx over >= 2000 requests per tier.
//
//   npm run fuzz [-- --requests 2000] [--seed 13] [--only backend|edge]

import fc from 'fast-check';
import { type SpawnedBackend, spawnBackend, testSigningSecret } from '../test/support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../test/support/edge-worker.ts';
import { type HostileRequest, hostileRequest, modelTargets, normalRequest } from '../test/support/hostile-requests.ts';
import { printTable } from './lib/stats.ts';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1]!;
}
const requestsPerTier = Number(option('requests', '2000'));
const seed = Number(option('seed', '13'));
const only = option('only', 'both');

interface Tally {
  tier: string;
  requests: number;
  byStatus: Map<string, number>;
  fiveHundreds: { status: number; model: string; body: string; error: string }[];
  crashes: string[];
  poisoned: string[];
  /** Requests that passed decoding and ran a model (answered 200). */
  ran: number;
  /** Requests that reached a model's graph and were refused by it (400 naming the graph's reason). */
  graphRefused: number;
}

const backendEnv = (port: string) => ({
  PORT: port,
  EDGE_SIGNATURE_REQUIRED: 'false',
  EDGE_SIGNING_SECRET: testSigningSecret,
  // One model at a time per session, as on one CPU: the fuzz is about what a request does, not speed.
  INTRA_OP_THREADS: '1',
});

interface Tier {
  name: string;
  send(path: string, body: unknown): Promise<Response>;
  /** Whether the tier's processes are still up (false: a crash). */
  alive(): Promise<string | undefined>;
}

async function post(url: URL, headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function fuzzTier(tier: Tier, samples: HostileRequest[], onCrash: () => Promise<void>): Promise<Tally> {
  const tally: Tally = {
    tier: tier.name,
    requests: 0,
    byStatus: new Map(),
    fiveHundreds: [],
    crashes: [],
    poisoned: [],
    ran: 0,
    graphRefused: 0,
  };
  const count = (key: string) => tally.byStatus.set(key, (tally.byStatus.get(key) ?? 0) + 1);
  for (const [index, { target, body }] of samples.entries()) {
    tally.requests++;
    const label = `${target.manifest.name}@${target.version}`;
    let status: number | undefined;
    try {
      const res = await tier.send(target.inferPath, body);
      status = res.status;
      const text = await res.text();
      count(String(status));
      if (status === 200) tally.ran++;
      if (status === 400 && text.includes('cannot run on this input')) tally.graphRefused++;
      if (status >= 500)
        tally.fiveHundreds.push({ status, model: label, body: JSON.stringify(body).slice(0, 300), error: text.slice(0, 300) });
      else if (status >= 400 && !/^\{"error":/.test(text)) count(`${status} not JSON`);
    } catch (err) {
      count('no answer');
      const down = await tier.alive();
      tally.crashes.push(
        `request ${index} to ${label}: ${(err as Error).message}${down ? `; ${down}` : ''}: ${JSON.stringify(body).slice(0, 300)}`,
      );
      await onCrash();
      continue;
    }
    try {
      const res = await tier.send(target.inferPath, normalRequest(target.manifest));
      if (res.status !== 200)
        tally.poisoned.push(`${label} after request ${index} (${status}): ${res.status} ${(await res.text()).slice(0, 200)}`);
      else await res.arrayBuffer();
    } catch (err) {
      tally.poisoned.push(`${label} after request ${index}: no answer (${(err as Error).message})`);
    }
    if ((index + 1) % 500 === 0) console.log(`  ${tier.name}: ${index + 1} of ${samples.length}`);
  }
  return tally;
}

async function main(): Promise<void> {
  const targets = await modelTargets();
  console.log(
    `fuzz: ${requestsPerTier} generated hostile requests per tier (seed ${seed}) over ${targets.length} model versions: ${targets.map((t) => `${t.manifest.name}@${t.version}`).join(', ')}`,
  );
  const samples = fc.sample(hostileRequest(targets), { numRuns: requestsPerTier, seed });
  let backend: SpawnedBackend = await spawnBackend(backendEnv('0'));
  const backendPort = backend.url.port;
  let backendCrashes = 0;
  const respawnBackend = async () => {
    backendCrashes++;
    backend.child.kill('SIGKILL');
    await backend.exited;
    backend = await spawnBackend(backendEnv(backendPort));
  };
  const backendAlive = async () =>
    backend.child.exitCode !== null || backend.child.signalCode !== null
      ? `backend exited (${backend.child.exitCode ?? backend.child.signalCode}): ${backend.output.slice(-3).join(' | ')}`
      : undefined;
  let edge: RunningWorker | undefined;
  const tallies: Tally[] = [];
  try {
    if (only !== 'edge') {
      tallies.push(
        await fuzzTier(
          { name: 'backend', send: (path, body) => post(new URL(path, backend.url), {}, body), alive: backendAlive },
          samples,
          respawnBackend,
        ),
      );
    }
    if (only !== 'backend') {
      edge = await startEdgeWorker({
        vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret, RATE_LIMIT_PRO: '100000000' },
      });
      const running = edge;
      tallies.push(
        await fuzzTier(
          {
            name: 'edge (and the backend behind it)',
            send: (path, body) =>
              running.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
            alive: async () =>
              (await backendAlive()) ??
              (await fetch(new URL('/v2/health/live', running.url)).then(
                () => undefined,
                (err: Error) => `edge: ${err.message}`,
              )),
          },
          samples,
          respawnBackend,
        ),
      );
    }
  } finally {
    await edge?.stop();
    backend.child.kill('SIGTERM');
    await backend.exited;
  }

  const statuses = [...new Set(tallies.flatMap((t) => [...t.byStatus.keys()]))].sort();
  printTable(
    'hostile requests per tier: crashes, poisoned sessions, 5xx, and every answer by status',
    ['tier', 'requests', 'ran (200)', 'refused by a graph (400)', 'crashes', 'poisoned sessions', '5xx', ...statuses],
    tallies.map((t) => [
      t.tier,
      String(t.requests),
      String(t.ran),
      String(t.graphRefused),
      String(t.crashes.length),
      String(t.poisoned.length),
      String(t.fiveHundreds.length),
      ...statuses.map((s) => String(t.byStatus.get(s) ?? 0)),
    ]),
  );
  console.log(`backend processes restarted after a crash: ${backendCrashes}`);
  for (const t of tallies) {
    for (const line of t.crashes.slice(0, 5)) console.log(`crash (${t.tier}): ${line}`);
    for (const line of t.poisoned.slice(0, 5)) console.log(`poisoned (${t.tier}): ${line}`);
    for (const f of t.fiveHundreds.slice(0, 5)) console.log(`${f.status} (${t.tier}) ${f.model}: ${f.error} <- ${f.body}`);
  }
  const failed = tallies.some((t) => t.crashes.length + t.poisoned.length + t.fiveHundreds.length > 0);
  process.exitCode = failed ? 1 : 0;
}

await main();
