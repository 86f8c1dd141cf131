// The shutdown's state as requests see it: once draining, new requests are answered 503 at once; at the
// cut (shortly before the grace period ends) every request not yet answered is answered 503 with
// Retry-After, so that no caller is left with a reset connection (gpu-backend/shutdown.ts sets both).

import { setMaxListeners } from 'node:events';
import type { MiddlewareHandler } from 'hono';
import { Overloaded } from '../protocol/errors.ts';
import type { BackendEnv } from './middleware/body.ts';

/** Seconds a caller is told to wait: another instance takes the traffic within moments. */
export const drainRetryAfterSeconds = 1;

export class Drain {
  #started = false;
  readonly #cut = new AbortController();

  constructor() {
    // One listener per request in progress: as many as the server holds, not a leak.
    setMaxListeners(0, this.#cut.signal);
  }

  get started(): boolean {
    return this.#started;
  }

  /** Aborted at the cut: whatever is still running is answered 503 from then on. */
  get cutSignal(): AbortSignal {
    return this.#cut.signal;
  }

  start(): void {
    this.#started = true;
  }

  cut(): void {
    this.#started = true;
    this.#cut.abort();
  }
}

function shuttingDown(message: string): Overloaded {
  const err = new Overloaded(message, drainRetryAfterSeconds);
  // The connection goes with the process: tell the client not to send its next request on it.
  err.headers.Connection = 'close';
  return err;
}

/**
 * First in the app: while draining, a new request (other than `openPaths`, the health probes, which
 * say for themselves that the server is going) is answered 503; a request in progress at the cut is
 * answered 503 then, while its work is left to stop with the process.
 */
export function answerWhileDraining(drain: Drain, openPaths: ReadonlySet<string>): MiddlewareHandler<BackendEnv> {
  return async (c, next) => {
    if (openPaths.has(c.req.path)) return next();
    if (drain.started) throw shuttingDown('server is shutting down; retry, another instance will answer');
    const signal = drain.cutSignal;
    let onCut: (() => void) | undefined;
    const cut = new Promise<never>((_resolve, reject) => {
      onCut = () => reject(shuttingDown('server is shutting down and could not finish this request in time; retry it'));
      signal.addEventListener('abort', onCut, { once: true });
    });
    // The handler may still settle after the cut has answered; its outcome then goes nowhere.
    const handled = next();
    handled.catch(() => {});
    cut.catch(() => {});
    try {
      await Promise.race([handled, cut]);
    } finally {
      signal.removeEventListener('abort', onCut!);
    }
  };
}
