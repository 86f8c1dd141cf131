// Redis replies in Upstash's JSON: `{"result": …}` or `{"error": "…"}`. With `Upstash-Encoding: base64`
// every string in a result is base64 of its bytes, except a top-level simple-string `OK`, which
// @upstash/redis's decoder passes through as it is (a stored value "OK" is a bulk string and encoded).

import { RespError, type RespValue } from './resp.ts';

export type ResponseEncoding = 'base64' | 'utf8';

export type UpstashItem = { result: unknown } | { error: string };

export function toUpstashItem(reply: RespValue, encoding: ResponseEncoding): UpstashItem {
  if (reply instanceof RespError) return { error: reply.message };
  if (encoding === 'base64' && reply === 'OK') return { result: 'OK' };
  return { result: toResult(reply, encoding) };
}

function toResult(reply: RespValue, encoding: ResponseEncoding): unknown {
  if (reply === null || typeof reply === 'number') return reply;
  if (Array.isArray(reply)) return reply.map((item) => toResult(item, encoding));
  // An error inside an array (a script's pcall result, say) has no slot of its own in Upstash's shape.
  if (reply instanceof RespError) return toResult(reply.message, encoding);
  if (encoding === 'utf8') return typeof reply === 'string' ? reply : reply.toString('utf8');
  return (typeof reply === 'string' ? Buffer.from(reply, 'utf8') : reply).toString('base64');
}

/** Upstash's request header value for base64 results; anything else (or none) means plain strings. */
export function responseEncodingOf(header: string | undefined): ResponseEncoding {
  return header?.trim().toLowerCase() === 'base64' ? 'base64' : 'utf8';
}
