// The typed errors both tiers throw where a problem is found. Each carries its HTTP status; the one
// place that turns them into `{"error": …}` is `errorResponse` below, used by every tier's onError.

export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.headers = headers;
  }
}

/** `Retry-After` in whole seconds, at least one: a caller told 0 would retry at once. */
function retryAfter(seconds: number): Record<string, string> {
  return { 'Retry-After': String(Math.max(1, Math.ceil(seconds))) };
}

export class InvalidInput extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

export class Unauthorized extends HttpError {
  constructor(message: string, challenge = 'Bearer') {
    super(401, message, { 'WWW-Authenticate': challenge });
  }
}

/** A key's monthly budget is spent: no more work until it renews or is raised. */
export class PaymentRequired extends HttpError {
  constructor(message: string) {
    super(402, message);
  }
}

export class Forbidden extends HttpError {
  constructor(message: string) {
    super(403, message);
  }
}

export class NotFound extends HttpError {
  constructor(message: string) {
    super(404, message);
  }
}

export class MethodNotAllowed extends HttpError {
  constructor(method: string, allowed: readonly string[]) {
    super(405, `method ${method} is not allowed here; use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
  }
}

export class PayloadTooLarge extends HttpError {
  constructor(message: string) {
    super(413, message);
  }
}

export class UnsupportedMediaType extends HttpError {
  constructor(received: string | undefined, expected: readonly string[]) {
    super(415, `content type ${received ? `'${received}'` : '(none)'} is not supported; send ${expected.join(' or ')}`);
  }
}

/**
 * The client went away before its request was read (nginx's 499): nobody receives this answer, and it
 * is no fault of ours, so it is logged as a client gone, never as an unexpected 500.
 */
export class ClientClosedRequest extends HttpError {
  constructor(message: string) {
    super(499, message);
  }
}

export class TooManyRequests extends HttpError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, message, retryAfter(retryAfterSeconds));
  }
}

/** The model exists but cannot serve (failed verification, failed to load, restarting its session). */
export class ModelUnavailable extends HttpError {
  constructor(message: string, retryAfterSeconds?: number) {
    super(503, message, retryAfterSeconds === undefined ? {} : retryAfter(retryAfterSeconds));
  }
}

export class Overloaded extends HttpError {
  constructor(message: string, retryAfterSeconds: number) {
    super(503, message, retryAfter(retryAfterSeconds));
  }
}

/** The backend tier could not answer (down, overloaded, breaker open); the edge could not stand in. */
export class BackendUnavailable extends HttpError {
  constructor(message: string, retryAfterSeconds: number) {
    super(503, message, retryAfter(retryAfterSeconds));
  }
}

/** The backend answered something the edge cannot use (a malformed body, a refused signature). */
export class BadGateway extends HttpError {
  constructor(message: string) {
    super(502, message);
  }
}

export interface ErrorBody {
  error: string;
}

/**
 * Turns anything thrown into the protocol's error response. Unknown errors become a 500 whose body
 * names no internals: the caller learns that it was our fault, the log (via `onUnexpected`) learns why.
 */
export function errorResponse(err: unknown, onUnexpected: (err: unknown) => void = () => {}): Response {
  if (err instanceof HttpError) {
    return Response.json({ error: err.message } satisfies ErrorBody, { status: err.status, headers: err.headers });
  }
  onUnexpected(err);
  return Response.json({ error: 'internal error' } satisfies ErrorBody, { status: 500 });
}
