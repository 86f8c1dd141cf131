// The edge's configuration, parsed once per isolate from the Worker's environment bindings (wrangler.toml
// `[vars]`, secrets set with `wrangler secret put`). Nothing else reads `env`: every other file gets
// the typed `EdgeConfig` or the part of it it needs.

import { z } from 'zod';

const Milliseconds = z.coerce.number().int().positive();

// Keys are the binding names, so an issue's path names the variable the operator has to fix.
const Environment = z.object({
  BACKEND_URL: z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
  EDGE_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  BACKEND_TIMEOUT_MS: Milliseconds.default(30_000),
  BACKEND_FAILURE_THRESHOLD: z.coerce.number().int().positive().default(5),
  BACKEND_COOL_DOWN_MS: Milliseconds.default(10_000),
  CORS_ALLOWED_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url({ message: 'a comma-separated list of origins such as https://app.example.com' }).refine((origin) => origin !== '*', 'no wildcard')))
    .default([]),
});

export interface EdgeConfig {
  /** Origins whose browsers may call the API (CORS); none when empty. */
  corsAllowedOrigins: string[];
  backend:
    | {
        url: string;
        signingSecret: string | undefined;
        /** Used for models whose manifest sets no `routing.backendTimeoutMs`. */
        timeoutMs: number;
        breaker: { failureThreshold: number; coolDownMs: number };
      }
    | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseEdgeConfig(env: Record<string, unknown>): EdgeConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => typeof value === 'string' && value !== ''));
  const parsed = Environment.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${String(issue.path[0])}: ${issue.message}`);
    throw new ConfigError(`invalid edge configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin),
    backend: e.BACKEND_URL
      ? {
          url: e.BACKEND_URL,
          signingSecret: e.EDGE_SIGNING_SECRET,
          timeoutMs: e.BACKEND_TIMEOUT_MS,
          breaker: { failureThreshold: e.BACKEND_FAILURE_THRESHOLD, coolDownMs: e.BACKEND_COOL_DOWN_MS },
        }
      : undefined,
  };
}
