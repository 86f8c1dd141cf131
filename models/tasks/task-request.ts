// Reads a task request in any of its forms into files and options, with every size checked before
// the work it would cost: the raw file (`audio/wav`, `image/png`…, options in the query string), or
// JSON with one base64 file or a batch of them. Both tiers call this on the bytes they received.

import type { z } from 'zod';
import { mediaType, parseJson } from '../../protocol/body.ts';
import { InvalidInput, PayloadTooLarge, UnsupportedMediaType } from '../../protocol/errors.ts';
import { describeIssues } from '../../protocol/schemas.ts';
import { taskRequestBody } from '../../protocol/tasks.ts';
import { base64DecodedLength, decodeBase64 } from './base64.ts';

export interface TaskLimits {
  maxFileBytes: number;
  maxBatchFiles: number;
}

export interface TaskRequest<O> {
  files: Uint8Array[];
  /** A JSON `files` list: answered as `{"results": [...]}`, one per file, in order. */
  batch: boolean;
  options: O;
  /** The media type the files came as; `application/json` for either JSON form. */
  contentType: string;
}

/**
 * The largest body a task accepts: a batch of files at the limit, in base64 (4 bytes per 3), plus
 * room for the JSON around them and the options.
 */
export function maxTaskBodyBytes(limits: TaskLimits): number {
  return limits.maxBatchFiles * (Math.ceil(limits.maxFileBytes / 3) * 4 + 16) + 64 * 1024;
}

function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) throw new InvalidInput(`invalid options in ${where}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Query values are strings; numeric ones become numbers so one schema checks both forms. */
function queryOptions(query: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(query).map(([key, value]) => [key, value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value]),
  );
}

function checkFileSize(bytes: number, limits: TaskLimits, which: string): void {
  if (bytes === 0) throw new InvalidInput(`${which} is empty`);
  if (bytes > limits.maxFileBytes) throw new PayloadTooLarge(`${which} has ${bytes} bytes; the limit is ${limits.maxFileBytes}`);
}

export function readTaskRequest<S extends z.ZodType>(
  body: Uint8Array,
  contentTypeHeader: string | null | undefined,
  query: Record<string, string>,
  spec: { rawTypes: readonly string[]; limits: TaskLimits; options: S },
): TaskRequest<z.infer<S>> {
  const type = mediaType(contentTypeHeader);
  if (type && spec.rawTypes.includes(type)) {
    checkFileSize(body.length, spec.limits, 'the file');
    return { files: [body], batch: false, options: parseOptions(spec.options, queryOptions(query), 'the query string'), contentType: type };
  }
  if (type !== 'application/json') throw new UnsupportedMediaType(type, [...spec.rawTypes, 'application/json']);
  if (body.length === 0) throw new InvalidInput('request body is empty');

  // A JSON task body is a handful of strings and options, however large the files in it.
  const parsed = taskRequestBody(spec.options).safeParse(parseJson(body, 4096));
  if (!parsed.success) {
    throw new InvalidInput(
      `invalid request body: ${describeIssues(parsed.error)}; send {"file": "<base64>"} or {"files": ["<base64>", …]}`,
    );
  }
  const message = parsed.data;
  const encoded = 'file' in message ? [message.file] : message.files;
  if (encoded.length > spec.limits.maxBatchFiles) {
    throw new PayloadTooLarge(`a batch holds at most ${spec.limits.maxBatchFiles} files; this one has ${encoded.length}`);
  }
  encoded.forEach((text, i) => checkFileSize(base64DecodedLength(text), spec.limits, 'file' in message ? 'the file' : `files[${i}]`));
  const files = encoded.map((text, i) => decodeBase64(text, 'file' in message ? 'file' : `files[${i}]`));
  return { files, batch: !('file' in message), options: parseOptions(spec.options, message.options, 'options'), contentType: type };
}
