// Graceful shutdown for Cloud Run (SIGTERM, then SIGKILL 10 s later). Every request gets an answer:
//   1. at once: report not ready, answer new requests 503 (the listener stays open, so a new
//      connection gets that 503 rather than a refusal), and run queued work without waiting for company;
//   2. when everything received has been answered, close and release the sessions;
//   3. if that has not happened `answerMarginMs` before the timeout (the cut), answer every request
//      still in progress 503 with Retry-After (gpu-backend/drain.ts), wait for those answers to be
//      written, then close what is left.

import type { RunningBackend } from './server.ts';

export interface ShutdownOptions {
  timeoutMs: number;
  log: (line: string) => void;
  /** Time kept after the cut to write the 503s; defaults to a quarter of the timeout, at most 1 s. */
  answerMarginMs?: number;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/** Drains and closes the backend; resolves true when every request received was answered. */
export async function shutdown(backend: RunningBackend, options: ShutdownOptions): Promise<boolean> {
  const { timeoutMs, log } = options;
  const { server, deps, inFlight } = backend;
  const answerMarginMs = options.answerMarginMs ?? Math.min(1000, Math.floor(timeoutMs / 4));
  const started = performance.now();
  deps.readiness.startDraining();
  deps.drain.start();
  log('shutting down: not ready, answering new requests 503, draining queued and running requests');

  // In flight counts requests from their headers to their response's last byte, including requests still
  // reading their bodies, which no batcher has seen yet.
  const finished = Promise.all([deps.inference.drain(), inFlight.idle()]).then(() => true);
  let cutTimer: ReturnType<typeof setTimeout> | undefined;
  const cutReached = new Promise<false>((resolve) => {
    cutTimer = setTimeout(() => resolve(false), Math.max(0, timeoutMs - answerMarginMs));
  });
  const drained = await Promise.race([finished, cutReached]);
  clearTimeout(cutTimer);
  let cutCount = 0;
  if (!drained) {
    cutCount = inFlight.count;
    log(`shutdown: ${cutCount} request(s) could not finish in time: answering them 503 with Retry-After`);
    deps.drain.cut();
    await Promise.race([inFlight.idle(), sleep(answerMarginMs)]);
  }

  // Idle keep-alive connections would hold close() open until their clients hang up.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeIdleConnections' in server) server.closeIdleConnections();
  const unanswered = inFlight.count;
  if ('closeAllConnections' in server) server.closeAllConnections();
  await closed;
  await deps.runtime.close();
  const elapsed = (performance.now() - started).toFixed(0);
  if (unanswered > 0) log(`shutdown cut short after ${timeoutMs} ms with ${unanswered} request(s) unanswered, in ${elapsed} ms`);
  else log(`shutdown complete in ${elapsed} ms${drained ? '' : ` (${cutCount} request(s) answered 503 at the cut)`}`);
  return unanswered === 0;
}

/** Shuts down on the first of `signals`, then exits: 0 when every request was answered, 1 otherwise. */
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
