// Reads a request body straight from Node's IncomingMessage, with protocol/body.ts's limit semantics
// (Content-Length checked first, then bytes counted as they arrive, reading abandoned past the limit).
// On @hono/node-server, `c.req.raw.body` is the IncomingMessage wrapped in a web ReadableStream: reading
// megabytes through it, collecting chunks and joining them cost several ms per MB on a small CPU
// (bench/backend.ts); here a body of known length is written into one buffer of that length as it arrives.
// A signed request's length is its signed one: nothing past it is read.

import type { IncomingMessage } from 'node:http';
import { HttpError, InvalidInput, PayloadTooLarge } from '../protocol/errors.ts';

/**
 * The client closed its connection before its request was answered: nobody is left to answer, and it
 * is not the server's fault. 499 as nginx logs it; app.onError logs it as client-gone, not as a fault.
 */
export class ClientGone extends HttpError {
  constructor(message: string) {
    super(499, message);
  }
}

function tooLarge(maxBytes: number): PayloadTooLarge {
  return new PayloadTooLarge(`request body exceeds this model's limit of ${maxBytes} bytes`);
}

function longerThanSigned(signedLength: number): PayloadTooLarge {
  return new PayloadTooLarge(`request body is longer than its signed length of ${signedLength} bytes`);
}

function unfilled(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

/** Reads the body, at most `maxBytes`; with `signedLength` (already checked against `maxBytes`), at most that many. */
export function readIncomingWithLimit(incoming: IncomingMessage, maxBytes: number, signedLength?: number): Promise<Uint8Array> {
  const header = incoming.headers['content-length'];
  const declared = signedLength ?? (header === undefined ? undefined : Number(header));
  if (declared !== undefined && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  // Node's parser holds a body to its Content-Length, so a declared length is the length that arrives;
  // the buffer is not zeroed first (megabytes of memset), since every byte of it is written or cut off.
  const preallocated = declared !== undefined && Number.isSafeInteger(declared) && declared >= 0 ? unfilled(declared) : undefined;
  if (preallocated?.length === 0) return Promise.resolve(preallocated);
  if (incoming.readableEnded) return Promise.reject(new Error('the request body was already read'));

  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let received = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes || (preallocated && received > preallocated.length)) {
        // Nothing more is read for this request; the server discards the rest once it has answered.
        stop();
        incoming.pause();
        const refused = signedLength !== undefined ? longerThanSigned(signedLength) : tooLarge(maxBytes);
        // The rest of the body stays unread: the connection cannot carry another request.
        refused.headers.Connection = 'close';
        reject(refused);
        return;
      }
      if (preallocated) preallocated.set(chunk, received - chunk.length);
      else chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      if (preallocated) {
        if (received === preallocated.length) resolve(preallocated);
        else
          reject(
            new InvalidInput(
              `request body has ${received} bytes; its ${signedLength !== undefined ? 'signature' : 'Content-Length'} says ${preallocated.length}`,
            ),
          );
        return;
      }
      if (chunks.length === 1) return resolve(chunks[0]!);
      const body = new Uint8Array(received);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(body);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      stop();
      // 'aborted' (ECONNRESET): the client went away mid-body.
      reject(
        err.code === 'ECONNRESET' || err.message === 'aborted' ? new ClientGone(`the client went away mid-body (${err.message})`) : err,
      );
    };
    const onClose = () => {
      stop();
      reject(new ClientGone('the client closed the connection before sending the whole body'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}
