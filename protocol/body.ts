// Reads a request body with a byte limit that holds whether or not the caller sent a truthful
// Content-Length: the header is checked first (cheap refusal), then the stream is counted as it
// arrives and abandoned as soon as it passes the limit, so no oversized body is ever buffered.

import { ClientClosedRequest, InvalidInput, PayloadTooLarge, UnsupportedMediaType } from './errors.ts';

function tooLarge(maxBytes: number): PayloadTooLarge {
  return new PayloadTooLarge(`request body exceeds this model's limit of ${maxBytes} bytes`);
}

export async function readBodyWithLimit(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The body stream breaks only when the connection does: the client is gone.
      throw new ClientClosedRequest(`the client closed the connection after sending ${received} bytes of its request body`);
    }
    const { done, value } = chunk;
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The media type of a Content-Type header, lower-cased and without parameters such as charset. */
export function mediaType(contentType: string | null | undefined): string | undefined {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return type || undefined;
}

export function requireMediaType(contentType: string | null | undefined, accepted: readonly string[]): string {
  const type = mediaType(contentType);
  if (!type || !accepted.includes(type)) throw new UnsupportedMediaType(type, accepted);
  return type;
}

const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;

/**
 * An upper bound on the number of values JSON.parse would create from `body`: every value but the
 * first of a container follows a comma, and every container opens with a bracket. Commas inside
 * strings only make the bound stricter.
 */
export function countJsonValues(body: Uint8Array): number {
  let values = 1;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (byte === COMMA || byte === OPEN_BRACKET || byte === OPEN_BRACE) values++;
  }
  return values;
}

/**
 * Parses a JSON body. With `maxValues`, a body that would create more values than that is refused
 * before parsing: JSON.parse spends tens of bytes of heap on each value, so a body of a few MB made
 * of `[],[],…` would otherwise cost far more memory than its size (and a Worker isolate has 128 MB).
 */
export function parseJson(body: Uint8Array, maxValues?: number): unknown {
  if (maxValues !== undefined && countJsonValues(body) > maxValues) {
    throw new PayloadTooLarge(`request body holds more JSON values than this model's limit of ${maxValues}`);
  }
  let text: string;
  try {
    // ignoreBOM spelled out: the Workers runtime's types require it (false is every runtime's default).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new InvalidInput('request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInput(`request body is not valid JSON: ${(err as Error).message}`);
  }
}
