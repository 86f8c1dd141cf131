import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../../infra/local/free-port.ts';
import { startLocalUpstash } from '../../../infra/local/local-upstash.ts';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Whether something accepts TCP connections on this loopback port. */
async function listening(port: number): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

describe('startLocalUpstash', () => {
  it('serves @upstash/redis on a loopback URL with its token, from a redis-server on its own port', async () => {
    const local = await startLocalUpstash();
    try {
      expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(local.token.length).toBeGreaterThanOrEqual(32);
      expect(await listening(local.redisPort)).toBe(true);
      const redis = new Redis({ url: local.url, token: local.token, enableTelemetry: false });
      expect(await redis.ping()).toBe('PONG');
    } finally {
      await local.stop();
    }
  });

  it('stops both the endpoint and redis-server, and may be stopped twice', async () => {
    const local = await startLocalUpstash();
    const restPort = Number(new URL(local.url).port);
    await local.stop();
    await local.stop();
    expect(await listening(restPort)).toBe(false);
    expect(await listening(local.redisPort)).toBe(false);
  });

  it('uses the token and ports it is given', async () => {
    const [port, redisPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const local = await startLocalUpstash({ token: 'given-token', port, redisPort });
    try {
      expect(local).toMatchObject({ url: `http://127.0.0.1:${port}`, token: 'given-token', redisPort });
    } finally {
      await local.stop();
    }
  });

  it('keeps two instances apart', async () => {
    const [first, second] = await Promise.all([startLocalUpstash(), startLocalUpstash()]);
    try {
      await new Redis({ url: first.url, token: first.token, enableTelemetry: false }).set('k', 'first');
      expect(await new Redis({ url: second.url, token: second.token, enableTelemetry: false }).get('k')).toBeNull();
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('says how to install redis-server when it is missing', async () => {
    await expect(startLocalUpstash({ redisServerCommand: '/nonexistent/redis-server' })).rejects.toThrow(
      /'\/nonexistent\/redis-server' was not found.*install it: apt-get install -y redis-server/,
    );
  });

  it('fails when its port is taken, and leaves no redis-server behind', async () => {
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const port = (squatter.address() as { port: number }).port;
    const redisPort = await freeLoopbackPort();
    try {
      await expect(startLocalUpstash({ port, redisPort })).rejects.toThrow(/EADDRINUSE/);
      expect(await listening(redisPort)).toBe(false);
    } finally {
      squatter.close();
    }
  });
});

describe('npm run dev:redis', () => {
  it('prints the URL and token for the edge, serves them until interrupted, then stops redis-server', async () => {
    const cli = spawn(process.execPath, ['infra/local/dev-redis.ts', '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: Record<string, string> = {};
    let redisPort = 0;
    for await (const line of createInterface({ input: cli.stdout! })) {
      const variable = /^(UPSTASH_REDIS_REST_(?:URL|TOKEN))=(.+)$/.exec(line);
      if (variable) printed[variable[1]!] = variable[2]!;
      redisPort ||= Number(/redis-server on 127\.0\.0\.1:(\d+)/.exec(line)?.[1] ?? 0);
      if (printed.UPSTASH_REDIS_REST_TOKEN) break;
    }
    const redis = new Redis({ url: printed.UPSTASH_REDIS_REST_URL!, token: printed.UPSTASH_REDIS_REST_TOKEN!, enableTelemetry: false });
    expect(await redis.set('dev', 'works')).toBe('OK');
    expect(await redis.get('dev')).toBe('works');

    const exited = once(cli, 'exit');
    cli.kill('SIGINT');
    expect(await exited).toEqual([0, null]);
    expect(await listening(redisPort)).toBe(false);
  });
});
