// Runs a throwaway redis-server on a loopback port: nothing saved to disk, gone when stopped.
// Ready means redis-server has said so on its log, not that some time has passed.

import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { freeLoopbackPort } from './free-port.ts';

export const redisHost = '127.0.0.1';

export interface RedisServerOptions {
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** The executable; `redis-server` on PATH unless told otherwise. */
  command?: string;
  readyTimeoutMs?: number;
}

export interface RunningRedisServer {
  host: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL if it lingers) and waits for it to exit. */
  stop(): Promise<void>;
}

export class RedisServerNotInstalled extends Error {
  constructor(command: string) {
    super(
      `'${command}' was not found: the local Upstash endpoint needs a real Redis; install it: apt-get install -y redis-server (macOS: brew install redis)`,
    );
    this.name = 'RedisServerNotInstalled';
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RunningRedisServer> {
  // A free port found here can be taken before redis-server binds it; only then is another one tried.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    try {
      return await startOnce(port, options);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= attempts) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(port: number, options: RedisServerOptions): Promise<RunningRedisServer> {
  const command = options.command ?? 'redis-server';
  const child = spawn(
    command,
    ['--port', String(port), '--bind', redisHost, '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Failures to start are reported by waitUntilReady; later ones (a kill that fails) must not crash the caller.
  child.on('error', () => {});

  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  try {
    await waitUntilReady(child, command, port, options.readyTimeoutMs ?? 10_000);
  } catch (err) {
    process.removeListener('exit', killOnExit);
    child.kill('SIGKILL');
    throw err;
  }
  // Its log is no longer needed; reading on keeps the pipes from filling up.
  child.stdout?.resume();
  child.stderr?.resume();

  return {
    host: redisHost,
    port,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const lingering = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(lingering);
    },
  };
}

function waitUntilReady(child: ChildProcess, command: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`redis-server did not report ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/Ready to accept connections/.test(output)) finish();
    };
    const onError = (err: NodeJS.ErrnoException) => finish(err.code === 'ENOENT' ? new RedisServerNotInstalled(command) : err);
    // 'close', not 'exit': by then everything it wrote has been read.
    const onClose = (code: number | null) =>
      finish(
        /Address already in use/.test(output)
          ? new PortTaken(`port ${port} is taken`)
          : new Error(`redis-server exited (code ${code}) before it was ready:\n${output}`),
      );
    function finish(err?: Error) {
      clearTimeout(timer);
      child.stdout?.off('data', onOutput);
      child.stderr?.off('data', onOutput);
      child.off('error', onError);
      child.off('close', onClose);
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('error', onError);
    child.once('close', onClose);
  });
}
