// Starts the real edge Worker in local workerd (wrangler's startWorker: the same bundling and runtime
// as `wrangler dev`) on a free loopback port, for tests and benchmarks that call it over HTTP.

import { unstable_startWorker } from 'wrangler';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningWorker {
  url: URL;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts the Worker of `wrangler.toml`, or the same config with another entry module. */
export async function startEdgeWorker(options: { entrypoint?: string } = {}): Promise<RunningWorker> {
  const worker = await unstable_startWorker({
    config: `${repoRoot}/wrangler.toml`,
    ...(options.entrypoint && { entrypoint: options.entrypoint }),
    dev: {
      server: { hostname: '127.0.0.1', port: 0 },
      inspector: false,
      persist: false,
      watch: false,
      logLevel: 'warn',
    },
  });
  await worker.ready;
  const url = await worker.url;
  return {
    url,
    fetch: (path, init) => fetch(new URL(path, url), init),
    stop: () => worker.dispose(),
  };
}
