// The edge's configuration, parsed once per isolate from the Worker's environment bindings (wrangler.toml
// `[vars]`, secrets set with `wrangler secret put`). Nothing else reads `env`: every other file gets
// the typed `EdgeConfig` or the part of it it needs.

import { z } from 'zod';
import type { JwtConfig } from './auth/jwt.ts';
import { ServiceAccountKey } from './backend/google-id-token.ts';
import type { KvReader } from './auth/key-store.ts';
import type { RateLimitFailureMode } from './middleware/rate-limit.ts';
import { type MeteringQueue, isQueue } from './metering.ts';
import type { Budget, Budgets, PlanPrices, RateLimitPlans } from './ratelimit/plans.ts';
import { type D1Like, isD1 } from './usage/store.ts';

const Milliseconds = z.coerce.number().int().positive();
const Count = z.coerce.number().int().positive();
// Money as a decimal string with at most 6 decimals, kept as whole micro-units so sums stay exact.
const Money = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,6})?$/, 'a decimal amount with at most 6 decimals, e.g. 0.0001')
  .transform((value) => {
    const [whole, fraction = ''] = value.split('.');
    return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0'));
  });
const BudgetSpec = z
  .object({ units: z.number().int().positive().optional(), cost: Money.optional() })
  .strict()
  .refine((budget) => budget.units !== undefined || budget.cost !== undefined, 'a budget needs units, cost or both');
const BudgetKey = z.string().regex(/^(key_[A-Za-z0-9]{8,64}|jwt:.+|plan:(free|pro))$/, 'a key id (key_…), jwt:<subject> or plan:free|pro');
const UsageBudgets = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'JSON, e.g. {"key_abc12345": {"units": 100000}, "plan:free": {"cost": "5"}}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(BudgetKey, BudgetSpec));
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

// `none` is never among them; HMAC algorithms only with a secret, public-key ones only with a JWKS.
const jwtAlgorithms = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
const isHmac = (alg: string) => alg.startsWith('HS');

// Keys are the binding names, so an issue's path names the variable the operator has to fix.
const Environment = z.object({
  BACKEND_URL: z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
  EDGE_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // A Cloud Run backend that admits only its invokers (infra/README.md): the invoker's key file, as JSON.
  BACKEND_SERVICE_ACCOUNT_KEY: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON: the service account key file as created by gcloud' });
        return z.NEVER;
      }
    })
    .pipe(ServiceAccountKey)
    .optional(),
  BACKEND_AUDIENCE: z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
  BACKEND_TIMEOUT_MS: Milliseconds.default(30_000),
  BACKEND_FAILURE_THRESHOLD: z.coerce.number().int().positive().default(5),
  BACKEND_COOL_DOWN_MS: Milliseconds.default(10_000),
  CORS_ALLOWED_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .url({ message: 'a comma-separated list of origins such as https://app.example.com' })
          .refine((origin) => origin !== '*', 'no wildcard'),
      ),
    )
    .default([]),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().nonnegative().default(1_000),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters (256 bits for HS256)').optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
  JWT_ALGORITHMS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((alg) => alg.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(jwtAlgorithms, { message: `one of ${jwtAlgorithms.join(', ')}` })).min(1))
    .optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  RATE_LIMIT_WINDOW_MS: Milliseconds.default(60_000),
  RATE_LIMIT_FREE: Count.default(60),
  RATE_LIMIT_PRO: Count.default(600),
  RATE_LIMIT_FAILED_AUTH_PER_IP: Count.default(20),
  RATE_LIMIT_PUBLIC_PER_IP: Count.default(300),
  RATE_LIMIT_TIMEOUT_MS: Milliseconds.default(150),
  // Open by default: see README "Rate limiting" and edge/middleware/rate-limit.ts.
  RATE_LIMIT_FAILURE_MODE: z.enum(['open', 'closed'], { message: "'open' or 'closed'" }).default('open'),
  RATE_LIMIT_ANALYTICS: z.enum(['true', 'false'], { message: "'true' or 'false'" }).default('false'),
  BILLING_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
    .default('USD'),
  PRICE_PER_UNIT_FREE: Money.default(0),
  PRICE_PER_UNIT_PRO: Money.default(100),
  USAGE_BUDGETS: UsageBudgets.optional(),
  BUDGET_REFRESH_MS: z.coerce.number().int().nonnegative().default(1_000),
  USAGE_READ_TIMEOUT_MS: Milliseconds.default(2_000),
  // Off: answers still carry their units and cost, but nothing is recorded (a deployment that bills
  // nothing, and bench:gateway's side-by-side measure of what metering costs).
  METERING: z.enum(['on', 'off'], { message: "'on' or 'off'" }).default('on'),
  METERING_WRITE_TIMEOUT_MS: Milliseconds.default(5_000),
  // How long an isolate gathers usage events before sending them as one queue batch.
  METERING_BATCH_MS: z.coerce.number().int().nonnegative().default(50),
  UNSAFE_LOCAL_BENCHMARK_NO_AUTH: z.literal('true', { message: "'true' or unset" }).optional(),
  // Log lines name their Cloud Trace under this project, as the backend's do (protocol/log.ts).
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id')
    .optional(),
});

/** Every variable and secret the edge reads (listed for operators in .dev.vars.example). */
export const edgeVariableNames: readonly string[] = Object.keys(Environment.shape);

function isKvNamespace(binding: unknown): binding is KvReader {
  return typeof binding === 'object' && binding !== null && typeof (binding as KvReader).get === 'function';
}

export interface EdgeConfig {
  /** Upstash Redis (rate limits, usage metering); absent in local development without one. */
  redis: { url: string; token: string } | undefined;
  /** Origins whose browsers may call the API (CORS); none when empty. */
  corsAllowedOrigins: string[];
  backend:
    | {
        url: string;
        signingSecret: string | undefined;
        /** Present when the backend is a Cloud Run service that admits only its invokers. */
        idToken: { key: ServiceAccountKey; audience: string } | undefined;
        /** Used for models whose manifest sets no `routing.backendTimeoutMs`. */
        timeoutMs: number;
        breaker: { failureThreshold: number; coolDownMs: number };
      }
    | undefined;
  rateLimit: {
    plans: RateLimitPlans;
    timeoutMs: number;
    failureMode: RateLimitFailureMode;
    analytics: boolean;
  };
  metering: {
    /** False (METERING=off): nothing is recorded; /v1/usage answers 503. */
    enabled: boolean;
    /** The METERING_QUEUE binding; absent, events are written to the store from waitUntil. */
    queue: MeteringQueue | undefined;
    /** The USAGE_DB binding (D1): the usage store when no Upstash Redis is configured. */
    db: D1Like | undefined;
    readTimeoutMs: number;
    writeTimeoutMs: number;
    batchWindowMs: number;
  };
  billing: { prices: PlanPrices; budgets: Budgets; budgetRefreshMs: number };
  /**
   * False only for `npm run bench:gateway`'s baseline: no authentication, no rate limits. Refused
   * unless BACKEND_URL is a loopback address, which no deployed Worker can use.
   */
  gatewayChecks: boolean;
  /** The Google Cloud project log lines name their traces under; none: no trace field. */
  gcpProjectId: string | undefined;
  auth: {
    /** The KV namespace bound as API_KEYS: key records by hash (see protocol/api-keys.ts). */
    apiKeys: KvReader;
    apiKeyCacheTtlMs: number;
    /** Absent: bearer JWTs are refused, API keys only. */
    jwt: JwtConfig | undefined;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `env` is the Worker's bindings (`Env`, generated by wrangler types), secrets included. */
export function parseEdgeConfig(env: Env | Readonly<Record<string, unknown>>): EdgeConfig {
  const present = Object.fromEntries(
    Object.entries(env as Record<string, unknown>).filter(([, value]) => typeof value === 'string' && value !== ''),
  );
  const parsed = Environment.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `  ${String(issue.path[0])}: ${issue.message}`);
  if (!isKvNamespace(env.API_KEYS)) problems.push('  API_KEYS: must be a KV namespace binding ([[kv_namespaces]] in wrangler.toml)');
  const jwt = parsed.success ? jwtConfig(parsed.data, problems) : undefined;
  if (parsed.success && Boolean(parsed.data.UPSTASH_REDIS_REST_URL) !== Boolean(parsed.data.UPSTASH_REDIS_REST_TOKEN)) {
    problems.push('  UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN: set both or neither');
  }
  if (parsed.success && parsed.data.UNSAFE_LOCAL_BENCHMARK_NO_AUTH && !isLoopback(parsed.data.BACKEND_URL)) {
    problems.push('  UNSAFE_LOCAL_BENCHMARK_NO_AUTH: only for local benchmarks, with BACKEND_URL on 127.0.0.1, localhost or [::1]');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(`invalid edge configuration:\n${problems.join('\n')}`);
  const e = parsed.data;
  return {
    redis: e.UPSTASH_REDIS_REST_URL ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN! } : undefined,
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin),
    backend: e.BACKEND_URL
      ? {
          url: e.BACKEND_URL,
          signingSecret: e.EDGE_SIGNING_SECRET,
          // Cloud Run checks the token's audience against the service's URL (or its custom audiences).
          idToken: e.BACKEND_SERVICE_ACCOUNT_KEY && {
            key: e.BACKEND_SERVICE_ACCOUNT_KEY,
            audience: e.BACKEND_AUDIENCE ?? new URL(e.BACKEND_URL).origin,
          },
          timeoutMs: e.BACKEND_TIMEOUT_MS,
          breaker: { failureThreshold: e.BACKEND_FAILURE_THRESHOLD, coolDownMs: e.BACKEND_COOL_DOWN_MS },
        }
      : undefined,
    rateLimit: {
      plans: {
        requestsPerPlan: { free: e.RATE_LIMIT_FREE, pro: e.RATE_LIMIT_PRO },
        failedAuthPerIp: e.RATE_LIMIT_FAILED_AUTH_PER_IP,
        publicPerIp: e.RATE_LIMIT_PUBLIC_PER_IP,
        windowMs: e.RATE_LIMIT_WINDOW_MS,
      },
      timeoutMs: e.RATE_LIMIT_TIMEOUT_MS,
      failureMode: e.RATE_LIMIT_FAILURE_MODE,
      analytics: e.RATE_LIMIT_ANALYTICS === 'true',
    },
    metering: {
      enabled: e.METERING === 'on',
      queue: isQueue(env.METERING_QUEUE) ? env.METERING_QUEUE : undefined,
      db: isD1(env.USAGE_DB) ? env.USAGE_DB : undefined,
      readTimeoutMs: e.USAGE_READ_TIMEOUT_MS,
      writeTimeoutMs: e.METERING_WRITE_TIMEOUT_MS,
      batchWindowMs: e.METERING_BATCH_MS,
    },
    billing: {
      prices: { currency: e.BILLING_CURRENCY, pricePerUnitMicros: { free: e.PRICE_PER_UNIT_FREE, pro: e.PRICE_PER_UNIT_PRO } },
      budgets: budgetsOf(e.USAGE_BUDGETS ?? {}),
      budgetRefreshMs: e.BUDGET_REFRESH_MS,
    },
    gatewayChecks: !e.UNSAFE_LOCAL_BENCHMARK_NO_AUTH,
    gcpProjectId: e.GOOGLE_CLOUD_PROJECT,
    auth: { apiKeys: env.API_KEYS as KvReader, apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS, jwt },
  };
}

function budgetsOf(entries: Record<string, { units?: number | undefined; cost?: number | undefined }>): Budgets {
  const budgets: Budgets = { byKey: {}, byPlan: {} };
  for (const [name, spec] of Object.entries(entries)) {
    const budget: Budget = { units: spec.units, costMicros: spec.cost };
    if (name.startsWith('plan:')) budgets.byPlan[name.slice('plan:'.length) as 'free' | 'pro'] = budget;
    else budgets.byKey[name] = budget;
  }
  return budgets;
}

function isLoopback(url: string | undefined): boolean {
  return url !== undefined && loopbackHosts.has(new URL(url).hostname);
}

/** JWTs are accepted once a secret or a JWKS URL is set, and then only with an issuer and audience to check. */
function jwtConfig(e: z.infer<typeof Environment>, problems: string[]): JwtConfig | undefined {
  if (!e.JWT_SECRET && !e.JWT_JWKS_URL) return undefined;
  if (e.JWT_SECRET && e.JWT_JWKS_URL) problems.push('  JWT_SECRET: set either JWT_SECRET or JWT_JWKS_URL, not both');
  if (!e.JWT_ISSUER) problems.push('  JWT_ISSUER: required when JWTs are accepted (the `iss` every token must carry)');
  if (!e.JWT_AUDIENCE) problems.push('  JWT_AUDIENCE: required when JWTs are accepted (the `aud` every token must carry)');
  const secret = e.JWT_SECRET;
  const algorithms = e.JWT_ALGORITHMS ?? (secret ? ['HS256'] : ['RS256', 'ES256']);
  const mismatched = algorithms.filter((alg) => isHmac(alg) !== Boolean(secret));
  if (mismatched.length > 0)
    problems.push(`  JWT_ALGORITHMS: ${mismatched.join(', ')} cannot be verified with ${secret ? 'JWT_SECRET' : 'JWT_JWKS_URL'}`);
  return {
    key: secret ? { kind: 'secret', secret } : { kind: 'jwks', url: e.JWT_JWKS_URL! },
    algorithms,
    issuer: e.JWT_ISSUER ?? '',
    audience: e.JWT_AUDIENCE ?? '',
  };
}
