// The typed client of edgeinfer's API: task routes (/v1/vad, /v1/ocr), Open Inference Protocol v2
// inference and usage, with the protocol's zod schemas as its types and as the check on every answer.
// Web APIs only (fetch, Blob, btoa), so it runs in browsers, Workers and Node 18+.
//
// Retries: only answers that say the server refused the work before doing it and may take it later
// (429, 503), after their Retry-After. Those are safe for every method, POST included: nothing ran,
// nothing was metered. Other statuses are final. A request that failed in transit is retried only when
// it is a GET: a POST may have been run (and metered) by a server whose answer was lost, and while
// inference has no other side effect, sending the work again to a struggling server is the caller's call.

import { z } from 'zod';
import { jsonValue, nonFiniteNames } from '../protocol/datatypes.ts';
import { ErrorResponse, type InferRequest as InferRequestSchema, InferResponse } from '../protocol/schemas.ts';
import {
  OcrBatchResponse,
  OcrResponse,
  providerHeader,
  tierHeader,
  VadBatchResponse,
  type VadOptionsInput,
  VadResponse,
} from '../protocol/tasks.ts';
import { EdgeinferError } from './errors.ts';
import { base64, type FileInput, imageContentType, rawBody } from './files.ts';
import { backoffMs, retryableStatuses, retryAfterMs } from './retry.ts';
import { UsageResponse } from '../protocol/usage.ts';
import { Job, JobAccepted, webhookRequestHeader } from '../protocol/jobs.ts';
import { type JobHandle, jobHandle } from './jobs.ts';

export { EdgeinferError } from './errors.ts';
export type { FileInput } from './files.ts';
export type { OcrBatchResponse, OcrResponse, VadBatchResponse, VadOptionsInput as VadOptions, VadResponse } from '../protocol/tasks.ts';
export type { InferResponse } from '../protocol/schemas.ts';
export type { DayUsage, ModelUsage, Usage, UsageResponse } from '../protocol/usage.ts';
export type { Job } from '../protocol/jobs.ts';
export { JobFailedError, type JobHandle, type WaitOptions } from './jobs.ts';
/** Checks a webhook delivery of a finished job with the secret from `client.webhookSecret()`. */
export { verifyWebhook, type WebhookVerification } from '../protocol/webhooks.ts';
/** An inference request as the caller writes it (optional fields may be left out). */
export type InferRequest = z.input<typeof InferRequestSchema>;

export interface ClientOptions {
  /** Where the edge answers, e.g. `https://api.example.com` (a path prefix is kept). */
  baseUrl: string | URL;
  /** Sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Defaults to the global fetch; pass one to add tracing, or a Worker's service binding. */
  fetch?: typeof fetch;
  /** Retries after a 429 or 503, on top of the first attempt. Default 3. */
  maxRetries?: number;
  /**
   * The longest wait before a retry. Default 20 000. A Retry-After longer than this is not waited
   * for: the error is thrown at once with its `retryAfterSeconds`, since retrying earlier than the
   * server asked would only be refused again.
   */
  maxRetryDelayMs?: number;
  /** Limit on each attempt, answer body included. Default 60 000. */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Cancels the call, a wait between retries included. */
  signal?: AbortSignal;
}

type VersionOption = { version?: string };

/** Run the call as an async job (`Prefer: respond-async`): the answer is a handle, at once. */
export interface AsyncCallOptions extends CallOptions {
  async: true;
  /** Where the finished job is POSTed, signed (verify with `verifyWebhook`); https in production. */
  webhook?: string;
}

/** What the headers of the answer said: where it ran, what it cost, how it is known in the server's logs. */
export interface ResponseMeta {
  /** `x-edgeinfer-tier`: `edge`, `gpu` or `edge-fallback` (absent on routes that run no model). */
  tier: string | undefined;
  /** `x-edgeinfer-units`: the units of work the call was charged (absent on routes that run no model). */
  units: number | undefined;
  /** `x-edgeinfer-cost`: what those units cost at the key's plan price, e.g. `{ amount: 0.0007, currency: 'USD' }`. */
  cost: { amount: number; currency: string } | undefined;
  /** `x-edgeinfer-provider`: what it ran on, `wasm` at the edge or the backend's `cuda`, `tensorrt`, `cpu`. */
  provider: string | undefined;
  requestId: string | undefined;
  /** Requests sent, retries included. */
  attempts: number;
}

const metaByResult = new WeakMap<object, ResponseMeta>();

/** The headers' side of a result the client returned: `responseMeta(await client.vad(wav)).tier`. */
export function responseMeta(result: object): ResponseMeta | undefined {
  return metaByResult.get(result);
}

/** Backoff without a Retry-After starts here and doubles per retry, up to `maxRetryDelayMs`. */
const backoffBaseMs = 500;

interface Call<S extends z.ZodType> {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: { contentType: string; data: BodyInit };
  headers?: Record<string, string>;
  schema: S;
  signal: AbortSignal | undefined;
}

export function createClient(options: ClientOptions) {
  const base = new URL(options.baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const maxRetries = options.maxRetries ?? 3;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 20_000;
  const timeoutMs = options.timeoutMs ?? 60_000;

  async function send<S extends z.ZodType>(call: Call<S>): Promise<z.infer<S>> {
    const url = new URL(call.path.replace(/^\//, ''), base);
    for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' };
    if (call.body) headers['content-type'] = call.body.contentType;
    Object.assign(headers, call.headers);

    for (let attempt = 1; ; attempt++) {
      const answer = await attemptOnce(
        url,
        { method: call.method, headers, body: call.body?.data },
        call.signal,
        attempt,
        call.method === 'GET',
      );
      if (answer.kind === 'retry') {
        await sleep(answer.delayMs, call.signal);
        continue;
      }
      const { response, text } = answer;
      const requestId = response.headers.get('x-request-id') ?? undefined;
      const retryAfterHeader = retryAfterMs(response.headers.get('retry-after'), Date.now());
      const retryAfterSeconds = retryAfterHeader === undefined ? undefined : Math.ceil(retryAfterHeader / 1000);
      if (!response.ok) {
        if (retryableStatuses.has(response.status) && attempt <= maxRetries) {
          const delayMs = retryAfterHeader ?? backoffMs(attempt - 1, backoffBaseMs, maxRetryDelayMs, Math.random());
          if (delayMs <= maxRetryDelayMs) {
            await sleep(delayMs, call.signal);
            continue;
          }
        }
        throw new EdgeinferError({
          status: response.status,
          message: errorMessage(response.status, text),
          requestId,
          retryAfterSeconds,
          attempts: attempt,
        });
      }
      const parsed = call.schema.safeParse(parseJson(text));
      if (!parsed.success) {
        throw new EdgeinferError({
          status: response.status,
          message: `the answer does not match the protocol: ${parsed.error.issues[0]?.message ?? 'not JSON'}`,
          requestId,
          attempts: attempt,
        });
      }
      const result = parsed.data as z.infer<S>;
      if (typeof result === 'object' && result !== null)
        metaByResult.set(result, {
          tier: response.headers.get(tierHeader) ?? undefined,
          units: unitsOf(response.headers.get('x-edgeinfer-units')),
          cost: costOf(response.headers.get('x-edgeinfer-cost')),
          provider: response.headers.get(providerHeader) ?? undefined,
          requestId,
          attempts: attempt,
        });
      return result;
    }
  }

  type Attempt = { kind: 'answer'; response: Response; text: string } | { kind: 'retry'; delayMs: number };

  /** One request, its body read within the timeout. A transport failure is retried only when `idempotent`. */
  async function attemptOnce(
    url: URL,
    init: RequestInit,
    signal: AbortSignal | undefined,
    attempt: number,
    idempotent: boolean,
  ): Promise<Attempt> {
    const { signal: attemptSignal, done } = attemptSignalFor(signal, timeoutMs);
    try {
      const response = await fetchImpl(url, { ...init, signal: attemptSignal });
      return { kind: 'answer', response, text: await response.text() };
    } catch (err) {
      const cancelledOrTimedOut = attemptSignal.aborted;
      if (!cancelledOrTimedOut && idempotent && attempt <= maxRetries) {
        return { kind: 'retry', delayMs: backoffMs(attempt - 1, backoffBaseMs, maxRetryDelayMs, Math.random()) };
      }
      throw cancelledOrTimedOut ? attemptSignal.reason : err;
    } finally {
      done();
    }
  }

  function readJob(id: string, signal: AbortSignal | undefined): Promise<Job> {
    return send({ method: 'GET', path: `/v1/jobs/${encodeURIComponent(id)}`, schema: Job, signal });
  }

  /** Sends the call with `Prefer: respond-async`; the 202's job becomes a handle whose result is read with `schema`. */
  async function submit<S extends z.ZodType>(
    call: Omit<Call<S>, 'schema'>,
    options: AsyncCallOptions,
    schema: S,
  ): Promise<JobHandle<z.infer<S>>> {
    const headers: Record<string, string> = { ...call.headers, prefer: 'respond-async' };
    if (options.webhook) headers[webhookRequestHeader] = options.webhook;
    const accepted = await send({ ...call, headers, schema: JobAccepted });
    return jobHandle(accepted.id, readJob, schema, sleep);
  }

  /** Text lines of one PNG or JPEG image, sent as the raw body with the type its bytes show. */
  async function ocr(file: FileInput, call?: CallOptions & { async?: false }): Promise<OcrResponse>;
  /** The same as an async job: a handle at once, `await handle.wait()` for the answer. */
  async function ocr(file: FileInput, call: AsyncCallOptions): Promise<JobHandle<OcrResponse>>;
  async function ocr(file: FileInput, call: CallOptions | AsyncCallOptions = {}): Promise<OcrResponse | JobHandle<OcrResponse>> {
    const request = {
      method: 'POST' as const,
      path: '/v1/ocr',
      body: { contentType: await imageContentType(file), data: rawBody(file) },
      signal: call.signal,
    };
    if ('async' in call && call.async) return submit(request, call, OcrResponse);
    return send({ ...request, schema: OcrResponse });
  }

  /** Speech segments of one WAV recording, sent as the raw body; options go in the query. */
  async function vad(file: FileInput, vadOptions?: VadOptionsInput, call?: CallOptions & { async?: false }): Promise<VadResponse>;
  /** The same as an async job: a handle at once, `await handle.wait()` for the answer. */
  async function vad(file: FileInput, vadOptions: VadOptionsInput | undefined, call: AsyncCallOptions): Promise<JobHandle<VadResponse>>;
  async function vad(
    file: FileInput,
    vadOptions: VadOptionsInput = {},
    call: CallOptions | AsyncCallOptions = {},
  ): Promise<VadResponse | JobHandle<VadResponse>> {
    const request = {
      method: 'POST' as const,
      path: '/v1/vad',
      query: vadOptions,
      body: { contentType: 'audio/wav', data: rawBody(file) },
      signal: call.signal,
    };
    if ('async' in call && call.async) return submit(request, call, VadResponse);
    return send({ ...request, schema: VadResponse });
  }

  /** Open Inference Protocol v2 inference on a model, its default version unless `version` is given. */
  async function infer(
    model: string,
    request: InferRequest,
    call?: CallOptions & VersionOption & { async?: false },
  ): Promise<InferResponse>;
  /** The same as an async job: a handle at once, `await handle.wait()` for the answer. */
  async function infer(model: string, request: InferRequest, call: AsyncCallOptions & VersionOption): Promise<JobHandle<InferResponse>>;
  async function infer(
    model: string,
    request: InferRequest,
    call: (CallOptions | AsyncCallOptions) & VersionOption = {},
  ): Promise<InferResponse | JobHandle<InferResponse>> {
    const version = call.version === undefined ? '' : `/versions/${encodeURIComponent(call.version)}`;
    const sent = {
      method: 'POST' as const,
      path: `/v2/models/${encodeURIComponent(model)}${version}/infer`,
      body: { contentType: 'application/json', data: JSON.stringify(request, nonFiniteByName) },
      signal: call.signal,
    };
    if ('async' in call && call.async) return submit(sent, call, InferAnswer);
    return send({ ...sent, schema: InferAnswer });
  }

  return {
    vad,
    /** Speech segments of several recordings in one request (up to the server's batch limit), one result per file in order. */
    async vadBatch(files: readonly FileInput[], vadOptions?: VadOptionsInput, call: CallOptions = {}): Promise<VadBatchResponse> {
      const body = JSON.stringify({ files: await Promise.all(files.map(base64)), ...(vadOptions && { options: vadOptions }) });
      return send({
        method: 'POST',
        path: '/v1/vad',
        body: { contentType: 'application/json', data: body },
        schema: VadBatchResponse,
        signal: call.signal,
      });
    },
    ocr,
    /** Text lines of several images in one request, one result per image in order. */
    async ocrBatch(files: readonly FileInput[], call: CallOptions = {}): Promise<OcrBatchResponse> {
      const body = JSON.stringify({ files: await Promise.all(files.map(base64)) });
      return send({
        method: 'POST',
        path: '/v1/ocr',
        body: { contentType: 'application/json', data: body },
        schema: OcrBatchResponse,
        signal: call.signal,
      });
    },
    infer,
    jobs: {
      /** A job as it stands now (its owner only: any other credential gets 404). */
      get: (id: string, call: CallOptions = {}) => readJob(id, call.signal),
    },
    /** The caller's `whsec_` secret, which signs its jobs' webhook deliveries. */
    async webhookSecret(call: CallOptions = {}): Promise<string> {
      return (await send({ method: 'GET', path: '/v1/webhook-secret', schema: WebhookSecretResponse, signal: call.signal })).secret;
    },
    /**
     * The caller's own usage per UTC day, `from` and `to` as YYYY-MM-DD, both included: requests,
     * units, cost (in `currency`) and per model, each day and in total.
     */
    async usage(range: { from: string; to: string }, call: CallOptions = {}): Promise<UsageResponse> {
      return send({ method: 'GET', path: '/v1/usage', query: range, schema: UsageResponse, signal: call.signal });
    },
  };
}

export type EdgeinferClient = ReturnType<typeof createClient>;

/**
 * JSON.stringify replacer: NaN and ±Infinity as the protocol's names ("NaN", "Infinity", "-Infinity",
 * protocol/datatypes.ts), which JSON.stringify alone would write as null.
 */
function nonFiniteByName(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? jsonValue(value) : value;
}

/** An answer's non-finite values, sent by name, back as the numbers they name. */
function nonFiniteAsNumbers(response: InferResponse): InferResponse {
  for (const output of response.outputs) {
    const { data } = output;
    for (let index = 0; index < data.length; index++) {
      const value = data[index];
      if (typeof value === 'string') data[index] = nonFiniteNames[value];
    }
  }
  return response;
}

// An infer answer as the caller reads it: NaN and ±Infinity, which JSON carries as names, as numbers.
const InferAnswer = InferResponse.transform(nonFiniteAsNumbers);

function unitsOf(header: string | null): number | undefined {
  return header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
}

/** `0.0007 USD` → `{ amount: 0.0007, currency: 'USD' }`. */
function costOf(header: string | null): { amount: number; currency: string } | undefined {
  const match = header === null ? null : /^(\d+(?:\.\d+)?) ([A-Z]{3})$/.exec(header);
  return match ? { amount: Number(match[1]), currency: match[2]! } : undefined;
}

const WebhookSecretResponse = z.object({ secret: z.string() });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The server's `{"error": …}` when it sent one, else the status and the start of whatever it sent. */
function errorMessage(status: number, text: string): string {
  const body = ErrorResponse.safeParse(parseJson(text));
  if (body.success) return body.data.error;
  return `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

/** The caller's signal and a per-attempt timeout as one signal (AbortSignal.any needs Node 20). */
function attemptSignalFor(signal: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
