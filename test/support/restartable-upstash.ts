// A local Upstash whose Redis can be taken down and brought back, for the outage tests and benchmark:
// a real redis-server that appends every write to disk (appendfsync always), so a SIGKILL loses
// nothing it acknowledged, behind the same Upstash REST endpoint as infra/local, which stays up and
// answers 503 while Redis is down. `pause()` (SIGSTOP) makes Redis hang instead: slow, not down.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { freeLoopbackPort } from '../../infra/local/free-port.ts';
import { createUpstashRestApp } from '../../infra/local/upstash-rest/app.ts';
import { RedisPool } from '../../infra/local/upstash-rest/redis-pool.ts';

export interface RestartableUpstash {
  url: string;
  token: string;
  /** SIGKILL: no shutdown, no last save. */
  kill(): Promise<void>;
  /** Starts Redis again on the same port and data directory; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open and nothing answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const host = '127.0.0.1';

function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
  });
}

export async function startRestartableUpstash(): Promise<RestartableUpstash> {
  const token = randomBytes(24).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'edgeinfer-redis-'));
  const port = await freeLoopbackPort();
  let redis = await startRedis(port, dir);
  const pool = new RedisPool({ host, port, connectTimeoutMs: 500 });
  const app = createUpstashRestApp({ pool, token });
  const server = await new Promise<ServerType>((resolve) => {
    const s: ServerType = serve({ fetch: app.fetch, port: 0, hostname: host }, () => resolve(s));
  });
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    token,
    async kill() {
      redis.kill('SIGKILL');
      await exited(redis);
    },
    async restart() {
      redis = await startRedis(port, dir);
    },
    pause: () => redis.kill('SIGSTOP'),
    resume: () => redis.kill('SIGCONT'),
    async stop() {
      redis.kill('SIGCONT');
      redis.kill('SIGKILL');
      await exited(redis);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      pool.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
