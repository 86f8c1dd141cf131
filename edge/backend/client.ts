// Forwards work to the GPU backend in one signed hop: an inference (binary tensor data both ways) or a
// whole task request (as the caller sent it). The request id is passed on, each call has a timeout,
// one retry with jitter when the backend could not be reached or answered 503, and the circuit breaker
// is consulted before and told after every call.

import { bodyHeaders, decodeInferResponseBody, encodeBinaryInferRequest, inferenceHeaderContentLength } from '../../protocol/binary.ts';
import { BackendUnavailable, BadGateway, HttpError } from '../../protocol/errors.ts';
import { verifiedRunTime } from '../../protocol/run-time.ts';
import { signRequest } from '../../protocol/signature.ts';
import type { Tensor } from '../../protocol/tensor-codec.ts';
import type { Manifest } from '../../models/manifest.ts';
import type { BackendBreakers, FailureKind } from './circuit-breaker.ts';
import { providerHeader } from '../../protocol/tasks.ts';

export interface BackendClientOptions {
  baseUrl: string;
  /** The secret the backend verifies; undefined only against a backend that does not require it. */
  signingSecret: string | undefined;
  /**
   * Google-signed ID tokens for a Cloud Run service that admits only its invokers
   * (`--no-allow-unauthenticated`, infra/README.md); undefined for a backend reachable without one.
   */
  idTokens?: { token(): Promise<string> } | undefined;
  /** Used when the manifest sets no `routing.backendTimeoutMs`. */
  defaultTimeoutMs: number;
  /** One breaker for the backend and one per model or task (edge/backend/circuit-breaker.ts). */
  breakers: BackendBreakers;
  retryJitterMs: { min: number; max: number };
  /** Told when the backend refuses the edge's signature (an audit event: the tiers' secrets differ, or someone tampered). */
  onSignatureRefused?: (path: string, requestId: string) => void;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ForwardRequest {
  manifest: Manifest;
  version: string;
  inputs: readonly Tensor[];
  outputNames: readonly string[];
  id?: string | undefined;
  requestId: string;
  traceparent?: string | undefined;
}

export interface ForwardResult {
  outputs: Tensor[];
  modelVersion: string;
  /** The backend's run time, when it came signed with the shared secret (protocol/run-time.ts). */
  runMs: number | undefined;
  /** The backend's execution provider (its x-edgeinfer-provider), when it said. */
  provider: string | undefined;
}

/** A whole task request (`/v1/vad`, `/v1/ocr`), passed on as the caller sent it. */
export interface ForwardTaskRequest {
  task: string;
  body: Uint8Array;
  contentType: string;
  /** The caller's query string (raw-body options), `?` included, or empty. */
  search: string;
  timeoutMs: number;
  requestId: string;
  traceparent?: string | undefined;
}

/** A call that did not get an answer worth passing on: counted against a breaker, maybe retried. */
class TransientFailure extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export class BackendClient {
  readonly #options: Required<Omit<BackendClientOptions, 'idTokens'>> & Pick<BackendClientOptions, 'idTokens'>;

  constructor(options: BackendClientOptions) {
    this.#options = {
      fetch: (input, init) => fetch(input, init),
      now: () => Date.now(),
      random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      onSignatureRefused: () => {},
      ...options,
    };
  }

  /** The breakers' state for a model: what the edge knows of it on the backend without asking. */
  modelState(model: string) {
    return this.#options.breakers.state(model);
  }

  infer(request: ForwardRequest): Promise<ForwardResult> {
    return this.#withRetry(request.manifest.name, () => this.#call(request));
  }

  /** The backend's JSON answer to a task request, and its Server-Timing. */
  task(
    request: ForwardTaskRequest,
  ): Promise<{ body: unknown; serverTiming: string | undefined; runMs: number | undefined; provider: string | undefined }> {
    return this.#withRetry(`task:${request.task}`, () => this.#callTask(request));
  }

  /** `target` keys the breaker: a model's name, or `task:<name>` for a whole task request. */
  async #withRetry<T>(target: string, call: () => Promise<T>): Promise<T> {
    const { breakers, retryJitterMs, random, sleep } = this.#options;
    const admission = breakers.admit(target);
    if (!admission.allowed) {
      throw new BackendUnavailable(
        admission.by === 'backend'
          ? 'the GPU backend is unavailable (circuit open after repeated failures)'
          : `${target.startsWith('task:') ? `the ${target.slice(5)} task` : `model '${target}'`} is unavailable on the GPU backend (circuit open after repeated failures)`,
        admission.retryAfterMs / 1000,
      );
    }
    // A probe gets no retry: its one answer decides whether the breaker closes.
    const attempts = admission.probe ? 1 : 2;
    let lastFailure: TransientFailure | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(retryJitterMs.min + random() * (retryJitterMs.max - retryJitterMs.min));
      try {
        const result = await call();
        breakers.recordSuccess(target);
        return result;
      } catch (err) {
        if (!(err instanceof TransientFailure)) {
          // The backend answered: it is up, whatever it thought of the request.
          breakers.recordSuccess(target);
          throw err;
        }
        lastFailure = err;
        if (err.kind === 'timeout') break; // a retry would only double the wait
      }
    }
    breakers.recordFailure(target, lastFailure!.kind);
    throw new BackendUnavailable(`the GPU backend is unavailable: ${lastFailure!.message}`, 5);
  }

  /** The Cloud Run invoker's bearer token, when the backend admits only its invokers. */
  async #authorization(): Promise<Record<string, string>> {
    const idTokens = this.#options.idTokens;
    return idTokens ? { authorization: `Bearer ${await idTokens.token()}` } : {};
  }

  /**
   * One signed POST with its timeout. Resolves the body of a 200; throws TransientFailure when no
   * answer worth passing on came back, and the backend's own 4xx as the caller's error.
   */
  async #post(
    path: string,
    search: string,
    body: Uint8Array,
    headers: Record<string, string>,
    timeoutMs: number,
    trace: { requestId: string; traceparent?: string | undefined },
  ): Promise<{ body: Uint8Array; headers: Headers; runMs: number | undefined }> {
    const signed: Record<string, string> = {
      ...headers,
      'x-request-id': trace.requestId,
      ...(trace.traceparent && { traceparent: trace.traceparent }),
      // Signed per attempt: each carries a new nonce, so a retry is not refused as a replay.
      ...(this.#options.signingSecret !== undefined &&
        (await signRequest(this.#options.signingSecret, 'POST', path + search, body, this.#options.now()))),
    };
    let authorization: Record<string, string>;
    try {
      authorization = await this.#authorization();
    } catch (err) {
      throw new TransientFailure('backend', `could not get a Google ID token to call it (${(err as Error).message})`);
    }
    let response: Response;
    try {
      response = await this.#options.fetch(new URL(path + search, this.#options.baseUrl), {
        method: 'POST',
        headers: { ...signed, ...authorization },
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      throw name === 'TimeoutError' || name === 'AbortError'
        ? new TransientFailure('timeout', `timed out after ${timeoutMs} ms`)
        : new TransientFailure('backend', `could not connect (${(err as Error).message})`);
    }

    const answer = new Uint8Array(await response.arrayBuffer());
    if (response.status >= 500) {
      // The backend's own 5xx is JSON and about this model or task; anything else came from in front of it.
      const own = errorMessage(answer);
      throw own === undefined
        ? new TransientFailure('backend', `it answered ${response.status}`)
        : new TransientFailure('target', `it answered ${response.status}: ${own}`);
    }
    if (response.status === 401 || response.status === 409) {
      // The backend judged the edge's signature, not the caller's request: the tiers' secrets or clocks
      // disagree (401), or it saw this signature before (409), which a new nonce per attempt rules out.
      this.#options.onSignatureRefused(path, trace.requestId);
      throw new BadGateway(
        `the GPU backend refused the edge's signature (${errorMessage(answer) ?? response.status}): check that EDGE_SIGNING_SECRET is the same on both tiers and their clocks agree`,
      );
    }
    if (response.status !== 200) {
      // The caller's request, judged by the backend against the same manifest: pass its answer on.
      throw new HttpError(response.status, errorMessage(answer) ?? `the GPU backend answered ${response.status}`);
    }
    const { signingSecret } = this.#options;
    const runMs = signingSecret === undefined ? undefined : await verifiedRunTime(signingSecret, trace.requestId, response.headers);
    return { body: answer, headers: response.headers, runMs };
  }

  async #callTask(
    request: ForwardTaskRequest,
  ): Promise<{ body: unknown; serverTiming: string | undefined; runMs: number | undefined; provider: string | undefined }> {
    const answer = await this.#post(
      `/v1/${request.task}`,
      request.search,
      request.body,
      { 'content-type': request.contentType },
      request.timeoutMs,
      request,
    );
    try {
      return {
        body: JSON.parse(new TextDecoder().decode(answer.body)),
        serverTiming: answer.headers.get('server-timing') ?? undefined,
        runMs: answer.runMs,
        provider: answer.headers.get(providerHeader) ?? undefined,
      };
    } catch (err) {
      throw new BadGateway(`the GPU backend's answer could not be read: ${(err as Error).message}`);
    }
  }

  async #call(request: ForwardRequest): Promise<ForwardResult> {
    const { manifest, version } = request;
    const path = `/v2/models/${encodeURIComponent(manifest.name)}/versions/${encodeURIComponent(version)}/infer`;
    const encoded = encodeBinaryInferRequest({
      ...(request.id !== undefined && { id: request.id }),
      inputs: request.inputs,
      outputs: request.outputNames.map((name) => ({ name })),
      binaryOutputs: true,
    });
    const timeoutMs = manifest.routing?.backendTimeoutMs ?? this.#options.defaultTimeoutMs;
    const answer = await this.#post(path, '', encoded.body, bodyHeaders(encoded), timeoutMs, request);
    try {
      const decoded = decodeInferResponseBody(answer.body, answer.headers.get(inferenceHeaderContentLength));
      return {
        outputs: decoded.outputs,
        modelVersion: decoded.header.model_version ?? version,
        runMs: answer.runMs,
        provider: answer.headers.get(providerHeader) ?? undefined,
      };
    } catch (err) {
      throw new BadGateway(`the GPU backend's answer could not be read: ${(err as Error).message}`);
    }
  }
}

function errorMessage(body: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}
