// The one error the client throws for an answer it cannot use: the server's status and message, the
// request id to quote in a support request, and when to come back.

export class EdgeinferError extends Error {
  /** The HTTP status; for a 2xx whose body did not match the protocol, that 2xx. */
  readonly status: number;
  /** `x-request-id` of the failed answer, when it had one. */
  readonly requestId: string | undefined;
  /** The last answer's `Retry-After`, in seconds, when it had one (429, 503). */
  readonly retryAfterSeconds: number | undefined;
  /** How many requests were sent, retries included. */
  readonly attempts: number;

  constructor(init: {
    status: number;
    message: string;
    requestId?: string | undefined;
    retryAfterSeconds?: number | undefined;
    attempts: number;
  }) {
    super(init.message);
    this.name = 'EdgeinferError';
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.attempts = init.attempts;
  }
}
