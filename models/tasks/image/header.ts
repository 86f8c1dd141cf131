// What an image is and how big it says it is, read from its header alone: the check that runs before
// any decoding, so a file declaring more pixels than the limit (a decompression bomb) costs nothing.

import { InvalidInput, PayloadTooLarge } from '../../../protocol/errors.ts';

export type ImageFormat = 'png' | 'jpeg';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

const accepted = 'send a PNG or JPEG image';
const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The format and declared size of a PNG or JPEG, refusing (InvalidInput) what is empty, not one of
 * them or cut off before its size, and (PayloadTooLarge) a declared size over `maxPixels`.
 */
export function inspectImage(bytes: Uint8Array, maxPixels: number): ImageHeader {
  if (bytes.length === 0) throw new InvalidInput(`the image is empty; ${accepted}`);
  const header = isPng(bytes) ? pngHeader(bytes) : isJpeg(bytes) ? jpegHeader(bytes) : undefined;
  if (!header) throw new InvalidInput(`the file is not a PNG or JPEG image (it does not start with either signature); ${accepted}`);
  if (header.width === 0 || header.height === 0) {
    throw new InvalidInput(`the ${header.format.toUpperCase()} header declares an empty image (${header.width}x${header.height})`);
  }
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new PayloadTooLarge(
      `the image declares ${header.width}x${header.height} = ${pixels} pixels, more than the limit of ${maxPixels}`,
    );
  }
  return header;
}

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && pngSignature.slice(0, Math.min(bytes.length, 8)).every((b, i) => bytes[i] === b);
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

// PNG: the signature, then IHDR first (PNG spec 11.2.2): length 13, "IHDR", width, height, depth, colour type.
function pngHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < 8 + 8 + 13) throw new InvalidInput(`the PNG is truncated: ${bytes.length} bytes end before its IHDR header`);
  const isIhdr = u32(bytes, 8) === 13 && bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 && bytes[15] === 0x52;
  if (!isIhdr) throw new InvalidInput('the PNG does not begin with an IHDR chunk of 13 bytes');
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  if (width > 0x7fffffff || height > 0x7fffffff) throw new InvalidInput(`the PNG declares an impossible size ${width}x${height}`);
  return { format: 'png', width, height };
}

// Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

// JPEG: segments after SOI, each `FF <marker> <length:u16>` (length counting itself), until a SOFn:
// precision (1), height (2), width (2). Markers without a length (RSTn, TEM) and fill bytes are skipped.
function jpegHeader(bytes: Uint8Array): ImageHeader {
  let at = 2;
  for (;;) {
    while (at < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
    if (at + 4 > bytes.length) throw new InvalidInput('the JPEG is truncated: it ends before its frame header (SOF) gives the size');
    if (bytes[at] !== 0xff) throw new InvalidInput(`the JPEG is malformed: expected a marker at byte ${at}`);
    const marker = bytes[at + 1]!;
    if (marker === 0xd9 || marker === 0xda) throw new InvalidInput('the JPEG has no frame header (SOF) before its image data');
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = u16(bytes, at + 2);
    if (length < 2) throw new InvalidInput(`the JPEG is malformed: a segment at byte ${at} declares length ${length}`);
    if (isStartOfFrame(marker)) {
      if (length < 8 || at + 9 > bytes.length) throw new InvalidInput('the JPEG is truncated inside its frame header (SOF)');
      const height = u16(bytes, at + 5);
      const width = u16(bytes, at + 7);
      // Height 0 defers it to a DNL marker after the first scan, which the decoder does not support.
      if (height === 0) throw new InvalidInput('the JPEG declares its height later in a DNL marker, which is not supported');
      return { format: 'jpeg', width, height };
    }
    at += 2 + length;
  }
}
