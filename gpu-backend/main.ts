// `node gpu-backend/main.ts`: the backend process. Configuration comes from the environment
// (gpu-backend/config.ts); the server drains on SIGTERM (gpu-backend/shutdown.ts).

import { logLine } from '../protocol/log.ts';
import { type BackendConfig, ConfigError, parseConfig } from './config.ts';
import { startBackend } from './server.ts';
import { shutdownOnSignals } from './shutdown.ts';

// JSON lines with a severity, as Cloud Logging reads them from stdout (protocol/log.ts); the platform
// timestamps each. Lines already in that form (the request log) are written as they are.
const log = (line: string) => console.log(line.startsWith('{') ? line : logLine(line.startsWith('WARNING') ? 'WARNING' : 'INFO', line));

let config: BackendConfig;
try {
  config = parseConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}

const backend = await startBackend(config, log);
shutdownOnSignals(backend, { timeoutMs: config.shutdownTimeoutMs, log });
await backend.loaded;
