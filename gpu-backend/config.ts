// The backend's configuration, parsed once at start-up from the environment. Nothing else in the
// backend reads process.env: every other file receives the typed `BackendConfig` (or a part of it).

import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const executionProviders = ['cuda', 'tensorrt', 'cpu'] as const;
export type ExecutionProvider = (typeof executionProviders)[number];

const repoModelsDir = fileURLToPath(new URL('../models', import.meta.url));

// 0 asks the OS for a free port (tests, benchmarks).
const Port = z.coerce.number().int().min(0).max(65535);
const Milliseconds = z.coerce.number().int().positive();
const Route = z.string().regex(/^\/\S*$/, 'a path starting with /');
const Flag = z.enum(['true', 'false'], { message: "expected 'true' or 'false'" }).transform((value) => value === 'true');

const ProviderList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(executionProviders, { message: `each provider is one of ${executionProviders.join(', ')}` })).min(1));

// Keys are the variable names, so a zod issue's path names the variable the operator has to fix.
const Environment = z.object({
  AIP_HTTP_PORT: Port.optional(),
  PORT: Port.optional(),
  BACKEND_PORT: Port.optional(),
  HOST: z.string().min(1).default('0.0.0.0'),
  AIP_HEALTH_ROUTE: Route.default('/health'),
  AIP_PREDICT_ROUTE: Route.default('/predict'),
  VERTEX_MODEL: z.string().min(1).optional(),
  MODELS_DIR: z.string().min(1).default(repoModelsDir),
  EXECUTION_PROVIDERS: ProviderList.default(['cuda', 'cpu']),
  INTRA_OP_THREADS: z.coerce.number().int().min(0).optional(),
  BATCHING: Flag.default(true),
  MAX_QUEUE_DELAY_MS: z.coerce.number().nonnegative().max(1000).optional(),
  MAX_BATCH_SIZE: z.coerce.number().int().positive().optional(),
  MAX_QUEUE_SIZE: z.coerce.number().int().positive().default(256),
  REQUEST_TIMEOUT_MS: Milliseconds.default(30_000),
  SHUTDOWN_TIMEOUT_MS: Milliseconds.max(60_000).default(9_000),
  EDGE_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  EDGE_SIGNING_SECRET_PREVIOUS: z.string().min(32, 'must be at least 32 characters').optional(),
  EDGE_SIGNATURE_REQUIRED: Flag.default(true),
  SIGNATURE_NONCES_MAX: z.coerce.number().int().min(1000).default(100_000),
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  // Cloud Logging links a log line to its trace only under the project's name (protocol/log.ts).
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id')
    .optional(),
});

export interface BackendConfig {
  /** Vertex's AIP_HTTP_PORT, else Cloud Run's PORT, else BACKEND_PORT (local dev), else 8080. */
  port: number;
  host: string;
  vertex: {
    healthRoute: string;
    predictRoute: string;
    /** The model the predict route serves; when unset, the request's `parameters.model` names it. */
    model: string | undefined;
  };
  modelsDir: string;
  /** onnxruntime execution providers in order of preference; the first that loads is used. */
  executionProviders: ExecutionProvider[];
  intraOpThreads: number | undefined;
  batching: {
    enabled: boolean;
    /** Overrides every manifest's `batching.maxQueueDelayMs` when set. */
    maxQueueDelayMs: number | undefined;
    /** Caps every model's rows per joined run (never above its `limits.maxBatch`) when set. */
    maxBatchSize: number | undefined;
    /** Requests waiting per model beyond which new ones are refused with 503. */
    maxQueueSize: number;
  };
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  signature: ({ required: true; secret: string } | { required: false; secret: string | undefined }) & {
    /** A secret being replaced, still accepted (by its key id) until the edge signs with the new one. */
    previousSecret: string | undefined;
    /** Nonces of signed requests remembered for the skew window, to refuse replays (gpu-backend/nonces.ts). */
    maxNonces: number;
  };
  /** The bearer token GET /metrics requires; undefined turns /metrics off (404). */
  metricsToken: string | undefined;
  /** The Google Cloud project whose traces the log lines name; none: no trace field. */
  gcpProjectId: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment, throwing ConfigError with one line per bad variable. */
export function parseConfig(env: Record<string, string | undefined>): BackendConfig {
  // An empty variable means unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = Environment.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${String(issue.path[0])}: ${issue.message} (got ${JSON.stringify(present[String(issue.path[0])])})`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.EDGE_SIGNATURE_REQUIRED && !e.EDGE_SIGNING_SECRET) {
    throw new ConfigError(
      'invalid configuration:\n  EDGE_SIGNING_SECRET: required while EDGE_SIGNATURE_REQUIRED is true ' +
        '(set the secret the edge signs with, or EDGE_SIGNATURE_REQUIRED=false for local development only)',
    );
  }
  return {
    port: e.AIP_HTTP_PORT ?? e.PORT ?? e.BACKEND_PORT ?? 8080,
    host: e.HOST,
    vertex: { healthRoute: e.AIP_HEALTH_ROUTE, predictRoute: e.AIP_PREDICT_ROUTE, model: e.VERTEX_MODEL },
    modelsDir: e.MODELS_DIR,
    executionProviders: e.EXECUTION_PROVIDERS,
    intraOpThreads: e.INTRA_OP_THREADS,
    batching: {
      enabled: e.BATCHING,
      maxQueueDelayMs: e.MAX_QUEUE_DELAY_MS,
      maxBatchSize: e.MAX_BATCH_SIZE,
      maxQueueSize: e.MAX_QUEUE_SIZE,
    },
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    signature: {
      ...(e.EDGE_SIGNATURE_REQUIRED
        ? { required: true, secret: e.EDGE_SIGNING_SECRET! }
        : { required: false, secret: e.EDGE_SIGNING_SECRET }),
      previousSecret: e.EDGE_SIGNING_SECRET_PREVIOUS,
      maxNonces: e.SIGNATURE_NONCES_MAX,
    },
    metricsToken: e.METRICS_TOKEN,
    gcpProjectId: e.GOOGLE_CLOUD_PROJECT,
  };
}
