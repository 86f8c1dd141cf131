import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, RespError, RespParser, type RespValue } from '../../../infra/local/upstash-rest/resp.ts';
import { responseEncodingOf, toUpstashItem } from '../../../infra/local/upstash-rest/upstash-json.ts';

/** Writes a reply as redis-server would, so the parser can be checked against any value. */
function encodeReply(value: RespValue): Buffer {
  if (value === null) return Buffer.from('$-1\r\n');
  if (typeof value === 'number') return Buffer.from(`:${value}\r\n`);
  if (typeof value === 'string') return Buffer.from(`+${value}\r\n`);
  if (value instanceof RespError) return Buffer.from(`-${value.message}\r\n`);
  if (Buffer.isBuffer(value)) return Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
  return Buffer.concat([Buffer.from(`*${value.length}\r\n`), ...value.map(encodeReply)]);
}

const line = fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\r') && !s.includes('\n'));
const reply: fc.Arbitrary<RespValue> = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    line,
    line.map((message) => new RespError(message)),
    fc.integer(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    fc.array(tie('value'), { maxLength: 5 }),
  ),
})).value;

/** Splits bytes into chunks at the given cut points, as a socket may deliver them. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

describe('RespParser', () => {
  it('parses every reply type back to what was sent, however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(reply, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (replies, cuts) => {
        const parser = new RespParser();
        const parsed = chunked(Buffer.concat(replies.map(encodeReply)), cuts).flatMap((chunk) => parser.push(chunk));
        expect(parsed).toEqual(replies);
      }),
    );
  });

  it('keeps a bulk string that contains CRLF whole', () => {
    expect(new RespParser().push(Buffer.from('$4\r\na\r\nb\r\n'))).toEqual([Buffer.from('a\r\nb')]);
  });

  it('returns nothing until a reply is complete', () => {
    const parser = new RespParser();
    expect(parser.push(Buffer.from('*2\r\n:1\r\n$3\r\nab'))).toEqual([]);
    expect(parser.push(Buffer.from('c\r\n'))).toEqual([[1, Buffer.from('abc')]]);
  });

  it('reads a nil array as null', () => {
    expect(new RespParser().push(Buffer.from('*-1\r\n'))).toEqual([null]);
  });
});

describe('encodeCommand', () => {
  it('writes an array of bulk strings measured in bytes, not characters', () => {
    expect(encodeCommand(['SET', 'k', 'é']).toString('utf8')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n');
  });
});

describe('toUpstashItem', () => {
  it('answers an error reply as {"error"}', () => {
    expect(toUpstashItem(new RespError('WRONGTYPE no'), 'utf8')).toEqual({ error: 'WRONGTYPE no' });
  });

  it('gives strings as text, integers as numbers and nil as null without base64', () => {
    expect(toUpstashItem([Buffer.from('é'), 'PONG', 7, null], 'utf8')).toEqual({ result: ['é', 'PONG', 7, null] });
  });

  it('encodes every string in base64, at any depth, but leaves numbers and nil alone', () => {
    expect(toUpstashItem([Buffer.from('é'), [Buffer.from([0xff])], 7, null], 'base64')).toEqual({
      result: [Buffer.from('é').toString('base64'), ['/w=='], 7, null],
    });
    expect(toUpstashItem('PONG', 'base64')).toEqual({ result: 'UE9ORw==' });
  });

  it('leaves a top-level simple OK as it is in base64, as @upstash/redis expects, but encodes a stored "OK"', () => {
    expect(toUpstashItem('OK', 'base64')).toEqual({ result: 'OK' });
    expect(toUpstashItem(Buffer.from('OK'), 'base64')).toEqual({ result: 'T0s=' });
  });

  it('reads the Upstash-Encoding header case-insensitively and defaults to plain strings', () => {
    expect(responseEncodingOf('base64')).toBe('base64');
    expect(responseEncodingOf('BASE64')).toBe('base64');
    expect(responseEncodingOf(undefined)).toBe('utf8');
    expect(responseEncodingOf('gzip')).toBe('utf8');
  });
});
