// RESP2, the protocol redis-server speaks on its socket: commands go out as arrays of bulk strings,
// replies come back as one of five types (https://redis.io/docs/latest/develop/reference/protocol-spec/).

/** An error reply (`-ERR …`): a value, not a throw, because a pipeline's other replies still count. */
export class RespError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/**
 * A reply: simple strings (`+OK`) are strings, bulk strings are Buffers (Redis values are bytes, and
 * the REST layer must tell the two apart for base64), integers are numbers, nil is null.
 */
export type RespValue = string | Buffer | number | null | RespError | RespValue[];

export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

/** Thrown inside the parser when the buffer ends mid-reply; the reply is parsed again once more bytes arrive. */
const incomplete = Symbol('incomplete');

/**
 * Turns a byte stream into replies. Feed it chunks as they arrive; it returns every reply completed
 * so far and keeps the bytes of an unfinished one.
 */
export class RespParser {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;

  push(chunk: Buffer): RespValue[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const replies: RespValue[] = [];
    for (;;) {
      const start = this.offset;
      try {
        replies.push(this.parseValue());
      } catch (err) {
        if (err !== incomplete) throw err;
        this.offset = start;
        break;
      }
    }
    this.buffer = this.buffer.subarray(this.offset);
    this.offset = 0;
    return replies;
  }

  private parseValue(): RespValue {
    const line = this.readLine();
    const type = line[0];
    const rest = line.slice(1);
    switch (type) {
      case '+':
        return rest;
      case '-':
        return new RespError(rest);
      case ':':
        return Number(rest);
      case '$': {
        const length = Number(rest);
        if (length < 0) return null;
        if (this.buffer.length < this.offset + length + 2) throw incomplete;
        const value = this.buffer.subarray(this.offset, this.offset + length);
        this.offset += length + 2;
        return Buffer.from(value);
      }
      case '*': {
        const count = Number(rest);
        if (count < 0) return null;
        const items: RespValue[] = [];
        for (let i = 0; i < count; i++) items.push(this.parseValue());
        return items;
      }
      default:
        throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
    }
  }

  private readLine(): string {
    const end = this.buffer.indexOf(CRLF, this.offset);
    if (end < 0) throw incomplete;
    const line = this.buffer.toString('utf8', this.offset, end);
    this.offset = end + 2;
    return line;
  }
}
