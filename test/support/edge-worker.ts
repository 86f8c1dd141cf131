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

// Nothing listens here: unless a test says where its backend is, forwarding fails fast.
const closedPortUrl = 'http://127.0.0.1:9';

/**
 * Starts the Worker of `wrangler.toml`, or the same config with another entry module; `vars`
 * override its `[vars]` (BACKEND_URL points at a closed port unless given).
 */
export async function startEdgeWorker(options: { entrypoint?: string; vars?: Record<string, string> } = {}): Promise<RunningWorker> {
  const vars = { BACKEND_URL: closedPortUrl, ...options.vars };
  const worker = await unstable_startWorker({
    config: `${repoRoot}/wrangler.toml`,
    ...(options.entrypoint && { entrypoint: options.entrypoint }),
    bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text', value }])),
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
