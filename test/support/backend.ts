// Starts the real GPU backend in this process on a free loopback port (CPU provider), for tests and
// benchmarks that call it over HTTP, and spawns `node gpu-backend/main.ts` for those that need a process.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseConfig } from '../../gpu-backend/config.ts';
import { type RunningBackend, startBackend } from '../../gpu-backend/server.ts';
import { shutdown } from '../../gpu-backend/shutdown.ts';
import { signRequest } from '../../protocol/signature.ts';
import { repoRoot } from './edge-worker.ts';

export const testSigningSecret = 'test-secret-that-is-at-least-32-characters-long';
export const testMetricsToken = 'test-metrics-token-of-at-least-32-characters';
/** The header GET /metrics needs on a backend started here. */
export const metricsAuthorization = { authorization: `Bearer ${testMetricsToken}` };

export interface StartedBackend {
  backend: RunningBackend;
  url: URL;
  logs: string[];
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs JSON signed with `testSigningSecret`, as the edge would. */
  signedPost(path: string, body: unknown, nowMs?: number): Promise<Response>;
  /** POSTs these exact bytes, signed, with this content type. */
  signedRaw(path: string, body: string | Uint8Array, contentType?: string): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts a backend from environment-style settings (merged over test defaults) and waits until it has loaded its models. */
export async function startTestBackend(env: Record<string, string> = {}): Promise<StartedBackend> {
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    EXECUTION_PROVIDERS: 'cpu',
    EDGE_SIGNING_SECRET: testSigningSecret,
    METRICS_TOKEN: testMetricsToken,
    ...env,
  });
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const backend = await startBackend(config, log);
  await backend.loaded;
  const fetchPath = (path: string, init?: RequestInit) => fetch(new URL(path, backend.url), init);
  return {
    backend,
    url: backend.url,
    logs,
    fetch: fetchPath,
    async signedPost(path, body, nowMs = Date.now()) {
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      const headers = await signRequest(testSigningSecret, 'POST', path, bytes, nowMs);
      return fetchPath(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: bytes });
    },
    async signedRaw(path, body, contentType = 'application/json') {
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
      const headers = await signRequest(testSigningSecret, 'POST', path, bytes, Date.now());
      return fetchPath(path, {
        method: 'POST',
        headers: { 'content-type': contentType, ...headers },
        body: bytes as Uint8Array<ArrayBuffer>,
      });
    },
    async stop() {
      await shutdown(backend, { timeoutMs: 5_000, log });
    },
  };
}

export interface SpawnedBackend {
  child: ChildProcess;
  url: URL;
  output: string[];
  exited: Promise<number | null>;
}

/** Runs `node gpu-backend/main.ts` with the given environment and resolves once it reports ready. */
export async function spawnBackend(env: Record<string, string>): Promise<SpawnedBackend> {
  const child = spawn(process.execPath, ['gpu-backend/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', EXECUTION_PROVIDERS: 'cpu', METRICS_TOKEN: testMetricsToken, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let url: URL | undefined;
  await new Promise<void>((resolve, reject) => {
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        output.push(line);
        const listening = /listening on (http:\/\/\S+)/.exec(line);
        if (listening) url = new URL(listening[1]!);
        if (line.includes('gpu-backend ready')) resolve();
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    void exited.then((code) => reject(new Error(`backend exited with ${code} before ready:\n${output.join('\n')}`)));
  });
  return { child, url: url!, output, exited };
}
