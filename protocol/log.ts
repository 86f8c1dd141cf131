// One log format for both tiers: a JSON object per line with `severity` and `message`, the fields
// Cloud Logging reads (it groups a request's lines by `logging.googleapis.com/trace`), and for each
// request the same names on the edge and the backend: requestId, method, path, status, latencyMs, model.

export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const traceparentPattern = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's `x-request-id` when it is a sane token (it is echoed and logged), else undefined. */
export function usableRequestId(given: string | undefined): string | undefined {
  return given && requestIdPattern.test(given) ? given : undefined;
}

/**
 * Cloud Logging's trace fields from a W3C `traceparent`: the trace as `projects/<id>/traces/<trace>`
 * (only with a project id: without one Cloud Logging cannot link it), the span and whether it was sampled.
 */
export function traceFields(traceparent: string | undefined, projectId: string | undefined): Record<string, string | boolean> {
  const match = traceparent ? traceparentPattern.exec(traceparent.trim().toLowerCase()) : null;
  if (!match || !projectId) return {};
  const [, traceId, spanId, flags] = match;
  return {
    'logging.googleapis.com/trace': `projects/${projectId}/traces/${traceId}`,
    'logging.googleapis.com/spanId': spanId!,
    'logging.googleapis.com/trace_sampled': (Number.parseInt(flags!, 16) & 1) === 1,
  };
}

export function logLine(severity: Severity, message: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ severity, message, ...fields });
}

export interface RequestLogEntry {
  requestId: string;
  method: string;
  path: string;
  status: number;
  latencyMs: number;
  model: string | undefined;
  traceparent: string | undefined;
  /** Tier-specific fields (the edge's key id, tier, limit left); never headers or credentials. */
  extra?: Record<string, unknown>;
}

/** The one line a tier writes per request: 5xx an ERROR, 4xx a WARNING. */
export function requestLogLine(entry: RequestLogEntry, projectId: string | undefined): string {
  const severity: Severity = entry.status >= 500 ? 'ERROR' : entry.status >= 400 ? 'WARNING' : 'INFO';
  return logLine(severity, `${entry.method} ${entry.path} ${entry.status}`, {
    event: 'request',
    requestId: entry.requestId,
    method: entry.method,
    path: entry.path,
    status: entry.status,
    latencyMs: entry.latencyMs,
    model: entry.model,
    ...entry.extra,
    ...traceFields(entry.traceparent, projectId),
  });
}

const modelInPath = /^\/v2\/models\/([^/]+)/;

/** The model a `/v2/models/{name}/…` path names, for requests answered before it was resolved. */
export function modelOfPath(path: string): string | undefined {
  return modelInPath.exec(path)?.[1];
}
