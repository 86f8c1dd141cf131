// `npm start`: the edge (`wrangler dev`) and the GPU backend side by side, for local development.
// Each line of their output is prefixed with its tier; SIGINT and SIGTERM are passed on to both, and
// when either stops, the other is stopped too. The backend runs on CPU, without requiring the edge's
// signature (it logs a warning saying so), at http://127.0.0.1:${BACKEND_PORT:-8080}; the edge listens
// on ${EDGE_PORT:-8787} and forwards to that backend (its BACKEND_URL follows BACKEND_PORT, overriding
// wrangler.toml's, which names the default port).

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const backendPort = process.env.BACKEND_PORT || '8080';
// Locally BACKEND_PORT decides; a PORT or AIP_HTTP_PORT left in the shell would take precedence in the backend.
const { PORT: _port, AIP_HTTP_PORT: _aipPort, ...shellEnv } = process.env;

const edgePort = process.env.EDGE_PORT || '8787';
const backendUrl = `http://127.0.0.1:${backendPort}`;

interface Tier {
  name: string;
  script: string;
  /** Passed on to the script after `--`. */
  args: string[];
  env: NodeJS.ProcessEnv;
}

const tiers: Tier[] = [
  { name: 'edge', script: 'start:edge', args: ['--var', `BACKEND_URL:${backendUrl}`], env: { ...process.env, EDGE_PORT: edgePort } },
  {
    name: 'backend',
    script: 'start:backend',
    args: [],
    env: {
      EXECUTION_PROVIDERS: 'cpu',
      EDGE_SIGNATURE_REQUIRED: 'false',
      HOST: '127.0.0.1',
      ...shellEnv,
      BACKEND_PORT: backendPort,
    },
  },
];

const width = Math.max(...tiers.map((t) => t.name.length));
const children = new Map<string, ChildProcess>();
let stopping = false;

// Each tier runs in its own process group (npm → sh → wrangler or node), and a signal goes to the
// whole group: npm does not always pass one on through the shell, which would leave a tier running.
function stopAll(signal: NodeJS.Signals): void {
  stopping = true;
  for (const child of children.values()) {
    if (child.exitCode !== null || child.pid === undefined) continue;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }
}

for (const tier of tiers) {
  const child = spawn('npm', ['run', '--silent', tier.script, '--', ...tier.args], {
    env: tier.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.set(tier.name, child);
  const prefix = `[${tier.name.padEnd(width)}]`;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`${prefix} ${line}`));
  }
  child.on('exit', (code, signal) => {
    children.delete(tier.name);
    console.log(`${prefix} exited ${signal ? `on ${signal}` : `with ${code}`}`);
    if (!stopping) {
      process.exitCode = code ?? 1;
      stopAll('SIGTERM');
    }
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAll(signal));
