// Base64 decoding with the size known before allocating, in plain JavaScript: workerd and browsers
// lack Buffer, and `atob` builds a binary string as large as the decoded bytes first.

import { InvalidInput } from '../../protocol/errors.ts';

const values = new Int16Array(256).fill(-1);
for (const [i, char] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) values[char.charCodeAt(0)] = i;
// The URL-safe alphabet decodes too: callers produce either.
values['-'.charCodeAt(0)] = 62;
values['_'.charCodeAt(0)] = 63;

/** Decoded length of `text` (whitespace ignored, padding optional); checked before decoding. */
export function base64DecodedLength(text: string): number {
  let symbols = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x3d) break; // '='
    if (code > 0x20) symbols++;
  }
  if (symbols % 4 === 1) throw new InvalidInput(`file is not valid base64: its length leaves a dangling character`);
  return Math.floor((symbols * 3) / 4);
}

export function decodeBase64(text: string, what = 'file'): Uint8Array {
  const out = new Uint8Array(base64DecodedLength(text));
  let buffer = 0;
  let bits = 0;
  let written = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20) continue;
    if (code === 0x3d) break;
    const value = code < 256 ? values[code]! : -1;
    if (value < 0) throw new InvalidInput(`${what} is not valid base64: unexpected character at offset ${i}`);
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}
