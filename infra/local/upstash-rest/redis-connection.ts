// One TCP connection to redis-server. Commands are pipelined: a batch is written in one go and its
// replies are matched to it in order, which is how Redis answers (FIFO per connection).

import { connect, type Socket } from 'node:net';
import { HttpError } from '../../../protocol/errors.ts';
import { encodeCommand, RespParser, type RespValue } from './resp.ts';

/** redis-server could not be reached, or the connection broke mid-request. */
export class RedisUnavailable extends HttpError {
  constructor(reason: string) {
    super(503, `redis-server is unavailable: ${reason}`);
  }
}

interface PendingBatch {
  expected: number;
  replies: RespValue[];
  resolve(replies: RespValue[]): void;
  reject(err: Error): void;
}

export class RedisConnection {
  private readonly socket: Socket;
  private readonly parser = new RespParser();
  private readonly pending: PendingBatch[] = [];
  private broken: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RedisUnavailable(err.message)));
    socket.on('close', () => this.fail(new RedisUnavailable('connection closed')));
  }

  static open(host: string, port: number, connectTimeoutMs: number): Promise<RedisConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(
        () => socket.destroy(new Error(`no connection to ${host}:${port} within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RedisConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new RedisUnavailable(err.message));
      });
    });
  }

  get usable(): boolean {
    return this.broken === undefined;
  }

  /** Sends every command at once and resolves with their replies, in order. */
  send(commands: readonly (readonly string[])[]): Promise<RespValue[]> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.pending.push({ expected: commands.length, replies: [], resolve, reject });
      this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    });
  }

  close(): void {
    this.fail(new RedisUnavailable('connection closed by the REST server'));
  }

  private onData(chunk: Buffer): void {
    let replies: RespValue[];
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      this.fail(new RedisUnavailable(`unreadable reply: ${(err as Error).message}`));
      return;
    }
    for (const reply of replies) {
      const batch = this.pending[0];
      if (!batch) {
        this.fail(new RedisUnavailable('a reply arrived that no command asked for'));
        return;
      }
      batch.replies.push(reply);
      if (batch.replies.length === batch.expected) {
        this.pending.shift();
        batch.resolve(batch.replies);
      }
    }
  }

  private fail(err: Error): void {
    if (this.broken) return;
    this.broken = err;
    this.socket.destroy();
    for (const batch of this.pending.splice(0)) batch.reject(err);
  }
}
