// A local stand-in for an Upstash database: a real redis-server behind the Upstash REST endpoint,
// both on loopback, for tests and local development. Point @upstash/redis at `url` with `token`.

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { startRedisServer } from './redis-server.ts';
import { createUpstashRestApp } from './upstash-rest/app.ts';
import { RedisPool } from './upstash-rest/redis-pool.ts';

export interface LocalUpstashOptions {
  /** The bearer token clients must send; a random one when omitted. */
  token?: string;
  /** Port for the REST endpoint; a free one when omitted. */
  port?: number;
  /** Port for the redis-server it starts; a free one when omitted. */
  redisPort?: number;
  /** The redis-server executable; `redis-server` on PATH unless told otherwise. */
  redisServerCommand?: string;
  log?: (line: string) => void;
}

export interface LocalUpstash {
  /** The REST URL, as UPSTASH_REDIS_REST_URL: `http://127.0.0.1:<port>`. */
  url: string;
  /** The token, as UPSTASH_REDIS_REST_TOKEN. */
  token: string;
  redisPort: number;
  /** Stops the REST endpoint and redis-server; the data is gone. Safe to call more than once. */
  stop(): Promise<void>;
}

const host = '127.0.0.1';

export async function startLocalUpstash(options: LocalUpstashOptions = {}): Promise<LocalUpstash> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const redis = await startRedisServer({ port: options.redisPort, command: options.redisServerCommand });
  const pool = new RedisPool({ host: redis.host, port: redis.port });
  let server: ServerType | undefined;
  try {
    await pool.send([['PING']]);
    const app = createUpstashRestApp({ pool, token, log: options.log });
    server = await listen(app.fetch, options.port ?? 0);
  } catch (err) {
    pool.close();
    await redis.stop();
    throw err;
  }
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  const running = server;
  return {
    url: `http://${host}:${port}`,
    token,
    redisPort: redis.port,
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          running.close(() => resolve());
          // Clients keep connections alive between commands; close() alone would wait for them.
          if ('closeAllConnections' in running) running.closeAllConnections();
        });
        pool.close();
        await redis.stop();
      })();
      return stopped;
    },
  };
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server: ServerType = serve({ fetch, port, hostname: host }, () => {
      server.off('error', reject);
      resolve(server);
    });
    server.once('error', reject);
  });
}
