// Forwards work to the GPU backend in one signed hop: an inference (binary tensor data both ways) or a
// whole task request (as the caller sent it). The request id is passed on, each call has a timeout,
// one retry with jitter when the backend could not be reached or answered 503, and the circuit breaker
// is consulted before and told after every call.

import { bodyHeaders, decodeInferResponseBody, encodeBinaryInferRequest, inferenceHeaderContentLength } from '../../protocol/binary.ts';
import { BackendUnavailable, BadGateway, HttpError, ModelUnavailable } from '../../protocol/errors.ts';
import { signRequest } from '../../protocol/signature.ts';
import type { Tensor } from '../../protocol/tensor-codec.ts';
import type { Manifest } from '../../models/manifest.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { providerHeader } from '../../protocol/tasks.ts';

export interface BackendClientOptions {
  baseUrl: string;
  /** The secret the backend verifies; undefined only against a backend that does not require it. */
  signingSecret: string | undefined;
  /** Used when the manifest sets no `routing.backendTimeoutMs`. */
  defaultTimeoutMs: number;
  breaker: CircuitBreaker;
  retryJitterMs: { min: number; max: number };
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

const readyTimeoutMs = 5_000;

/** A call that did not get an answer worth passing on: counted against the breaker, maybe retried. */
class TransientFailure extends Error {}

export class BackendClient {
  readonly #options: Required<BackendClientOptions>;

  constructor(options: BackendClientOptions) {
    this.#options = {
      fetch: (input, init) => fetch(input, init),
      now: () => Date.now(),
      random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  get breakerState() {
    return this.#options.breaker.state;
  }

  infer(request: ForwardRequest): Promise<ForwardResult> {
    return this.#withRetry(() => this.#call(request));
  }

  /** The backend's JSON answer to a task request, and its Server-Timing. */
  task(request: ForwardTaskRequest): Promise<{ body: unknown; serverTiming: string | undefined; provider: string | undefined }> {
    return this.#withRetry(() => this.#callTask(request));
  }

  async #withRetry<T>(call: () => Promise<T>): Promise<T> {
    const { breaker, retryJitterMs, random, sleep } = this.#options;
    const admission = breaker.admit();
    if (!admission.allowed) {
      throw new BackendUnavailable('the GPU backend is unavailable (circuit open after repeated failures)', admission.retryAfterMs / 1000);
    }
    // A probe gets no retry: its one answer decides whether the breaker closes.
    const attempts = admission.probe ? 1 : 2;
    let lastFailure: TransientFailure | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(retryJitterMs.min + random() * (retryJitterMs.max - retryJitterMs.min));
      try {
        const result = await call();
        breaker.recordSuccess();
        return result;
      } catch (err) {
        if (!(err instanceof TransientFailure)) {
          // The backend answered: it is up, whatever it thought of the request.
          breaker.recordSuccess();
          throw err;
        }
        lastFailure = err;
        if (err.message.startsWith('timed out')) break; // a retry would only double the wait
      }
    }
    breaker.recordFailure();
    throw new BackendUnavailable(`the GPU backend is unavailable: ${lastFailure!.message}`, 5);
  }

  /** The backend's own readiness for one model version; its ready routes are open, so unsigned. */
  async modelReady(name: string, version: string): Promise<void> {
    const path = `/v2/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/ready`;
    let response: Response;
    try {
      response = await this.#options.fetch(new URL(path, this.#options.baseUrl), { signal: AbortSignal.timeout(readyTimeoutMs) });
    } catch (err) {
      throw new BackendUnavailable(`the GPU backend did not answer its ready route: ${(err as Error).message}`, 5);
    }
    const body = new Uint8Array(await response.arrayBuffer());
    if (!response.ok) throw new ModelUnavailable(`on the GPU backend: ${errorMessage(body) ?? `it answered ${response.status}`}`);
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
  ): Promise<{ body: Uint8Array; headers: Headers }> {
    const signed: Record<string, string> = {
      ...headers,
      'x-request-id': trace.requestId,
      ...(trace.traceparent && { traceparent: trace.traceparent }),
      ...(this.#options.signingSecret !== undefined &&
        (await signRequest(this.#options.signingSecret, 'POST', path + search, body, this.#options.now()))),
    };
    let response: Response;
    try {
      response = await this.#options.fetch(new URL(path + search, this.#options.baseUrl), {
        method: 'POST',
        headers: signed,
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      throw new TransientFailure(
        name === 'TimeoutError' || name === 'AbortError'
          ? `timed out after ${timeoutMs} ms`
          : `could not connect (${(err as Error).message})`,
      );
    }

    const answer = new Uint8Array(await response.arrayBuffer());
    if (response.status === 503 || response.status >= 500) {
      throw new TransientFailure(`it answered ${response.status}`);
    }
    if (response.status === 401) {
      throw new BadGateway("the GPU backend refused the edge's signature: EDGE_SIGNING_SECRET differs between the tiers");
    }
    if (response.status !== 200) {
      // The caller's request, judged by the backend against the same manifest: pass its answer on.
      throw new HttpError(response.status, errorMessage(answer) ?? `the GPU backend answered ${response.status}`);
    }
    return { body: answer, headers: response.headers };
  }

  async #callTask(request: ForwardTaskRequest): Promise<{ body: unknown; serverTiming: string | undefined; provider: string | undefined }> {
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
