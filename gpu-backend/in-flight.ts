// Counts the HTTP requests the server is answering, from the moment their headers arrive until their
// response has been handed to the socket, so that shutdown can wait for the last byte of the last
// response (including requests still reading their bodies, which no batcher has seen yet) before it
// closes connections. Counted on the Node server, not in a Hono middleware: the adapter writes the
// body after the app's handlers have returned.

import type { ServerType } from '@hono/node-server';

export class InFlightRequests {
  #count = 0;
  readonly #idleWaiters: (() => void)[] = [];
  readonly #onChange: (count: number) => void;

  constructor(onChange: (count: number) => void = () => {}) {
    this.#onChange = onChange;
  }

  get count(): number {
    return this.#count;
  }

  track(server: ServerType): void {
    // Ahead of the app's listener, so a request is counted before any handler of it runs.
    server.prependListener('request', (_req: unknown, res: NodeJS.EventEmitter) => {
      this.#onChange(++this.#count);
      res.once('close', () => {
        this.#onChange(--this.#count);
        if (this.#count === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
      });
    });
  }

  /** Resolves once no request is being answered. */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
