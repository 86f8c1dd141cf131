// Lends each HTTP request a connection of its own for as long as it runs, so a MULTI … EXEC or a
// blocking command never interleaves with another request's commands. Idle connections are reused.

import { RedisConnection } from './redis-connection.ts';
import type { RespValue } from './resp.ts';

export interface RedisPoolOptions {
  host: string;
  port: number;
  maxConnections?: number;
  connectTimeoutMs?: number;
}

export class RedisPool {
  private readonly idle: RedisConnection[] = [];
  private readonly waiting: { resolve(connection: RedisConnection): void; reject(err: Error): void }[] = [];
  private open = 0;
  private closed = false;
  private readonly options: RedisPoolOptions;
  private readonly maxConnections: number;
  private readonly connectTimeoutMs: number;

  constructor(options: RedisPoolOptions) {
    this.options = options;
    this.maxConnections = options.maxConnections ?? 32;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  }

  /** Runs these commands back to back on one connection and returns their replies in order. */
  async send(commands: readonly (readonly string[])[]): Promise<RespValue[]> {
    const connection = await this.acquire();
    try {
      return await connection.send(commands);
    } finally {
      this.release(connection);
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.close();
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('the Redis pool is closed'));
  }

  private async acquire(): Promise<RedisConnection> {
    if (this.closed) throw new Error('the Redis pool is closed');
    const reused = this.idle.pop();
    if (reused) {
      if (reused.usable) return reused;
      this.open--;
      return this.acquire();
    }
    if (this.open < this.maxConnections) {
      this.open++;
      try {
        return await RedisConnection.open(this.options.host, this.options.port, this.connectTimeoutMs);
      } catch (err) {
        this.open--;
        throw err;
      }
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(connection: RedisConnection): void {
    if (this.closed || !connection.usable) {
      connection.close();
      this.open--;
      // A waiter may now open a fresh connection in the freed place.
      const waiter = this.waiting.shift();
      if (waiter) this.acquire().then(waiter.resolve, waiter.reject);
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(connection);
    else this.idle.push(connection);
  }
}
