// Graceful shutdown for Cloud Run (SIGTERM, then SIGKILL 10 s later): report not ready, stop accepting
// connections, answer every request received (in flight and queued), close, release the sessions. If that takes
// longer than the timeout, the connections are cut so the process still exits before SIGKILL.

import type { RunningBackend } from './server.ts';

export interface ShutdownOptions {
  timeoutMs: number;
  log: (line: string) => void;
}

/** Drains and closes the backend; resolves true when everything finished within the timeout. */
export async function shutdown(backend: RunningBackend, { timeoutMs, log }: ShutdownOptions): Promise<boolean> {
  const { server, deps, inFlight } = backend;
  const started = performance.now();
  deps.readiness.startDraining();
  log('shutting down: not ready, accepting no new connections, draining queued and running requests');

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  const finished = (async () => {
    // The batchers stop waiting for company; the in-flight count also covers requests still reading
    // their bodies, which no batcher has seen yet.
    await deps.inference.drain();
    // Idle keep-alive connections would hold close() open until their clients hang up; a request
    // that arrives on one meanwhile is answered before its connection is closed in turn.
    while (!isClosed) {
      await inFlight.idle();
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10))]);
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const clean = await Promise.race([finished.then(() => true), timedOut]);
  clearTimeout(timer);
  if (!clean && 'closeAllConnections' in server) server.closeAllConnections();
  await deps.runtime.close();
  log(`shutdown ${clean ? 'complete' : `cut short after ${timeoutMs} ms`} in ${(performance.now() - started).toFixed(0)} ms`);
  return clean;
}

/** Shuts down on the first of `signals`, then exits: 0 after a clean drain, 1 otherwise. */
export function shutdownOnSignals(
  backend: RunningBackend,
  options: ShutdownOptions,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): void {
  let started = false;
  for (const signal of signals) {
    process.once(signal, () => {
      if (started) return;
      started = true;
      options.log(`received ${signal}`);
      void shutdown(backend, options).then(
        (clean) => process.exit(clean ? 0 : 1),
        (err: Error) => {
          options.log(`shutdown failed: ${err.stack ?? err.message}`);
          process.exit(1);
        },
      );
    });
  }
}
