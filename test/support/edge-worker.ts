// Starts the real edge Worker in local workerd (wrangler's startWorker: the same bundling and runtime
// as `wrangler dev`) on a free loopback port, for tests and benchmarks that call it over HTTP.
//
// Its API_KEYS namespace is the in-memory one wrangler gives the Worker (persist: false, unless a test
// names a state directory, as `wrangler dev --persist-to` does); the harness
// writes a key record into it through Miniflare, the runtime's own handle on that binding, so nothing
// in the Worker exists only for tests. `fetch` sends that key; `fetchWithoutCredentials` sends none.

import { unstable_startWorker } from 'wrangler';
import { fileURLToPath } from 'node:url';
import { type SeededKey, seedApiKey, type TestKv } from './api-keys.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningWorker {
  url: URL;
  /** Sends the request with the seeded key as `Authorization: Bearer`, unless it carries a credential of its own. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  fetchWithoutCredentials(path: string, init?: RequestInit): Promise<Response>;
  /** The Worker's API_KEYS namespace. */
  apiKeys: TestKv;
  /** A key for every model, seeded at start. */
  key: SeededKey;
  /** Every line the Worker logged (console.*), in order. */
  logs: string[];
  stop(): Promise<void>;
}

// Nothing listens here: unless a test says where its backend is, forwarding fails fast.
const closedPortUrl = 'http://127.0.0.1:9';

function withCredential(init: RequestInit | undefined, apiKey: string): RequestInit {
  const headers = new Headers(init?.headers);
  if (!headers.has('authorization') && !headers.has('x-api-key')) headers.set('authorization', `Bearer ${apiKey}`);
  return { ...init, headers };
}

/**
 * Starts the Worker of `wrangler.toml`, or the same config with another entry module; `vars`
 * override its `[vars]` (BACKEND_URL points at a closed port unless given).
 */
export async function startEdgeWorker(
  options: {
    entrypoint?: string;
    vars?: Record<string, string>;
    persistTo?: string;
    /**
     * Call the runtime's own address instead of wrangler's dev proxy in front of it (another workerd
     * hop, about 4 ms a request on a 2-core machine, which production does not have): for benchmarks.
     */
    skipDevProxy?: boolean;
  } = {},
): Promise<RunningWorker> {
  const vars = { BACKEND_URL: closedPortUrl, ...options.vars };
  const logs: string[] = [];
  const worker = await unstable_startWorker({
    config: `${repoRoot}/wrangler.toml`,
    ...(options.entrypoint && { entrypoint: options.entrypoint }),
    bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text', value }])),
    dev: {
      server: { hostname: '127.0.0.1', port: 0 },
      inspector: false,
      persist: options.persistTo ?? false,
      watch: false,
      logLevel: 'warn',
      structuredLogsHandler: (log: { message: string }) => logs.push(log.message),
    },
  });
  await worker.ready;
  const proxyUrl = await worker.url;
  // The proxy is ready before the runtime behind it; a first answer means the runtime is up.
  await (await fetch(new URL('/v2/health/live', proxyUrl))).arrayBuffer();
  const miniflare = worker.raw.runtimes[0]?.mf;
  if (!miniflare) throw new Error('wrangler started no local runtime');
  const url = options.skipDevProxy ? await miniflare.ready : proxyUrl;
  const apiKeys = (await miniflare.getKVNamespace('API_KEYS')) as unknown as TestKv;
  const key = await seedApiKey(apiKeys);
  return {
    url,
    fetch: (path, init) => fetch(new URL(path, url), withCredential(init, key.apiKey)),
    fetchWithoutCredentials: (path, init) => fetch(new URL(path, url), init),
    apiKeys,
    key,
    logs,
    stop: () => worker.dispose(),
  };
}
