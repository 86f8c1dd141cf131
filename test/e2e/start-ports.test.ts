// `npm start` on ports other than the defaults: both tiers listen where they are told, and the edge
// forwards to the backend on BACKEND_PORT (not wrangler.toml's default BACKEND_URL).

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../infra/local/free-port.ts';
import { repoRoot } from '../support/edge-worker.ts';

let start: ChildProcess;
let edgePort: number;
let backendPort: number;
const lines: string[] = [];

/** Resolves with the first output line that matches, or rejects if `npm start` exits first. */
function lineMatching(pattern: RegExp): Promise<string> {
  const seen = lines.find((line) => pattern.test(line));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      if (pattern.test(line)) resolve(line);
    };
    waiters.add(onLine);
    start.once('exit', (code) => reject(new Error(`npm start exited with ${code} before printing ${pattern}:\n${lines.join('\n')}`)));
  });
}
const waiters = new Set<(line: string) => void>();

beforeAll(async () => {
  edgePort = await freeLoopbackPort();
  backendPort = await freeLoopbackPort();
  const { PORT: _port, BACKEND_URL: _url, ...env } = process.env;
  start = spawn(process.execPath, ['tools/start.ts'], {
    cwd: repoRoot,
    env: { ...env, EDGE_PORT: String(edgePort), BACKEND_PORT: String(backendPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [start.stdout!, start.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const waiter of waiters) waiter(line);
    });
  }
  await Promise.all([lineMatching(/\[backend\].*gpu-backend ready/), lineMatching(new RegExp(`\\[edge\\s*\\].*Ready on .*:${edgePort}`))]);
}, 180_000);

afterAll(async () => {
  if (start.exitCode === null) {
    const exited = once(start, 'exit');
    start.kill('SIGTERM');
    await exited;
  }
});

describe('npm start', () => {
  it('serves the backend on BACKEND_PORT', async () => {
    const res = await fetch(`http://127.0.0.1:${backendPort}/v2/health/ready`);
    expect(res.status).toBe(200);
  });

  it('serves the edge on EDGE_PORT, forwarding to the backend on BACKEND_PORT', async () => {
    // A gpu-tier model's readiness is the backend's: the edge asks it, so this answers 200 only when
    // the edge reaches the backend on the port it was given.
    const res = await fetch(`http://127.0.0.1:${edgePort}/v2/models/paddleocr-det/ready`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'paddleocr-det', ready: true });
  });

  it('stops both tiers on SIGTERM', async () => {
    const exited = once(start, 'exit');
    start.kill('SIGTERM');
    await exited;
    await expect(fetch(`http://127.0.0.1:${backendPort}/v2/health/live`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${edgePort}/v2/health/live`)).rejects.toThrow();
  });
});
