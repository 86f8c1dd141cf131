// How a task request's forms are read: the raw file with options in the query string, one base64 file,
// or a batch; every size refused before the work it would cost.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HttpError, InvalidInput, PayloadTooLarge, UnsupportedMediaType } from '../../../protocol/errors.ts';
import { VadOptions } from '../../../protocol/tasks.ts';
import { decodeBase64 } from '../../../models/tasks/base64.ts';
import { maxTaskBodyBytes, readTaskRequest } from '../../../models/tasks/task-request.ts';

const spec = { rawTypes: ['audio/wav'], limits: { maxFileBytes: 100, maxBatchFiles: 3 }, options: VadOptions };
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('decodeBase64', () => {
  it('decodes what Buffer encodes, padded or not, standard or URL-safe, with line breaks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const standard = Buffer.from(bytes).toString('base64');
        expect(decodeBase64(standard)).toEqual(bytes);
        expect(decodeBase64(standard.replace(/=+$/, ''))).toEqual(bytes);
        expect(decodeBase64(Buffer.from(bytes).toString('base64url'))).toEqual(bytes);
        expect(decodeBase64(standard.replace(/(.{76})/g, '$1\r\n'))).toEqual(bytes);
      }),
    );
  });

  it('refuses characters outside the alphabet and a dangling character', () => {
    expect(() => decodeBase64('ab$d')).toThrow(InvalidInput);
    expect(() => decodeBase64('abcde')).toThrow(/dangling/);
  });
});

describe('readTaskRequest', () => {
  it('takes a raw file with its options from the query string, numbers coerced', () => {
    const file = new Uint8Array([1, 2, 3]);
    const request = readTaskRequest(file, 'audio/wav; charset=binary', { threshold: '0.6', speech_pad_ms: '10' }, spec);
    expect(request).toMatchObject({ files: [file], batch: false, contentType: 'audio/wav' });
    expect(request.options).toMatchObject({ threshold: 0.6, speech_pad_ms: 10, min_speech_duration_ms: 250 });
  });

  it('takes one base64 file, or a batch answered per file, with options in JSON', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    expect(readTaskRequest(json({ file: base64(a) }), 'application/json', {}, spec)).toMatchObject({ files: [a], batch: false });
    const batch = readTaskRequest(json({ files: [base64(a), base64(b)], options: { threshold: 0.7 } }), 'application/json', {}, spec);
    expect(batch).toMatchObject({ files: [a, b], batch: true, options: { threshold: 0.7 } });
  });

  it('refuses an empty file, in any form', () => {
    expect(() => readTaskRequest(new Uint8Array(0), 'audio/wav', {}, spec)).toThrow(/empty/);
    expect(() => readTaskRequest(new Uint8Array(0), 'application/json', {}, spec)).toThrow(/empty/);
    expect(() => readTaskRequest(json({ file: '' }), 'application/json', {}, spec)).toThrow(/empty/);
  });

  it('refuses a file over the limit by its decoded size, before decoding it', () => {
    expect(() => readTaskRequest(new Uint8Array(101), 'audio/wav', {}, spec)).toThrow(PayloadTooLarge);
    expect(() => readTaskRequest(json({ file: base64(new Uint8Array(101)) }), 'application/json', {}, spec)).toThrow(
      /101 bytes; the limit is 100/,
    );
  });

  it('refuses a batch over its limit, naming it', () => {
    const files = Array.from({ length: 4 }, () => base64(new Uint8Array([1])));
    expect(() => readTaskRequest(json({ files }), 'application/json', {}, spec)).toThrow(/at most 3 files; this one has 4/);
  });

  it('refuses unknown options and content types with the accepted ones named', () => {
    expect(() => readTaskRequest(new Uint8Array([1]), 'audio/wav', { thresold: '0.5' }, spec)).toThrow(InvalidInput);
    expect(() => readTaskRequest(json({ file: 'AQ==', options: { threshold: 2 } }), 'application/json', {}, spec)).toThrow(/options/);
    expect(() => readTaskRequest(new Uint8Array([1]), 'audio/mpeg', {}, spec)).toThrow(UnsupportedMediaType);
    expect(() => readTaskRequest(json({ file: 'AQ==', extra: 1 }), 'application/json', {}, spec)).toThrow(InvalidInput);
  });

  it('admits a full batch of the largest files within the JSON body limit', () => {
    const files = Array.from({ length: 3 }, () => base64(new Uint8Array(100)));
    expect(json({ files, options: { threshold: 0.5 } }).length).toBeLessThanOrEqual(maxTaskBodyBytes(spec.limits));
  });

  it('answers only 4xx errors to arbitrary bodies', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.json().map((text) => new TextEncoder().encode(text)),
        ),
        fc.constantFrom('audio/wav', 'application/json'),
        (body, type) => {
          try {
            readTaskRequest(body, type, {}, spec);
          } catch (err) {
            expect(err).toBeInstanceOf(HttpError);
            expect((err as HttpError).status).toBeLessThan(500);
          }
        },
      ),
    );
  });
});
