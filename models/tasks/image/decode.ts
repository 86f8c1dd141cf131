// PNG or JPEG bytes to 8-bit RGB, in pure JavaScript (fast-png, jpeg-js) so it runs in workerd and
// Node alike. Call after `inspectImage`: the declared size is already within the limit.

import { decode as decodePngData, convertIndexedToRgb, type DecodedPng } from 'fast-png';
import jpeg from 'jpeg-js';
import { HttpError, InvalidInput } from '../../../protocol/errors.ts';
import type { ImageHeader } from './header.ts';

/** Interleaved 8-bit RGB, row by row: `rgb[(y * width + x) * 3 + channel]`. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Decodes an image whose header `inspectImage` accepted; any decoding failure is InvalidInput. */
export async function decodeImage(bytes: Uint8Array, header: ImageHeader): Promise<RgbImage> {
  try {
    const image = header.format === 'png' ? await decodePng(bytes, header) : decodeJpeg(bytes, header);
    if (image.width !== header.width || image.height !== header.height) {
      throw new InvalidInput(`the ${header.format.toUpperCase()} decodes to ${image.width}x${image.height}, not the ${header.width}x${header.height} its header declares`);
    }
    return image;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new InvalidInput(`the ${header.format.toUpperCase()} image could not be decoded: ${reason}`);
  }
}

function decodeJpeg(bytes: Uint8Array, header: ImageHeader): RgbImage {
  const pixels = header.width * header.height;
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    // Already checked from the header; these make jpeg-js refuse anything the header did not say.
    maxResolutionInMP: Math.ceil(pixels / 1e6) + 1,
    // Its block buffers take ~13 bytes per pixel, the RGB output 3, Huffman tables and such a little more.
    maxMemoryUsageInMB: Math.ceil((pixels * 20) / 2 ** 20) + 64,
  });
  return { width: decoded.width, height: decoded.height, rgb: decoded.data };
}

async function decodePng(bytes: Uint8Array, header: ImageHeader): Promise<RgbImage> {
  await refuseInflationBomb(bytes, header);
  const png = decodePngData(bytes);
  return { width: png.width, height: png.height, rgb: pngToRgb(png) };
}

/**
 * A PNG's IDAT stream may inflate to far more than its declared size needs (up to ~1000x its own
 * length): fast-png would keep all of it. Inflate it first with the platform's native zlib, counting,
 * and stop at the most a valid image of the declared size can hold.
 */
async function refuseInflationBomb(bytes: Uint8Array, header: ImageHeader): Promise<void> {
  const colourType = bytes[25]!;
  const depth = bytes[24]!;
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colourType] ?? 4;
  const rowBytes = Math.ceil((header.width * channels * Math.min(depth, 16)) / 8);
  // Adam7 adds at most a filter byte and a partial byte per row of each of its 7 passes.
  const maxInflated = header.height * (rowBytes + 1) + 14 * header.height + 64;
  const stream = new Blob([...idatChunks(bytes)]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  let inflated = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      inflated += value.length;
      if (inflated > maxInflated) {
        await reader.cancel();
        throw new InvalidInput(`the PNG's image data inflates to more than the ${maxInflated} bytes its declared ${header.width}x${header.height} pixels need`);
      }
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // A corrupt stream is left to fast-png, which says what is wrong with it.
  }
}

function* idatChunks(bytes: Uint8Array): Generator<Uint8Array<ArrayBuffer>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const isIdat = view.getUint32(at + 4) === 0x49444154;
    const end = Math.min(at + 8 + length, bytes.length);
    if (isIdat) yield bytes.slice(at + 8, end);
    at = end + 4;
  }
}

/** Any PNG layout (grey, grey+alpha, palette, RGB, RGBA; 1 to 16 bits) as 8-bit RGB, alpha over white. */
function pngToRgb(png: DecodedPng): Uint8Array {
  const { width, height } = png;
  const pixels = width * height;
  let channels = png.channels;
  let samples: ArrayLike<number>;
  let shift = 0;
  if (png.palette) {
    samples = convertIndexedToRgb(png);
    channels = png.palette[0]!.length;
  } else if (png.depth < 8) {
    samples = unpackGrey(png.data as Uint8Array, width, height, png.depth);
  } else {
    samples = png.data;
    shift = png.depth === 16 ? 8 : 0;
  }
  if (channels === 3 && shift === 0 && samples instanceof Uint8Array) return samples;
  const rgb = new Uint8Array(pixels * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const colour = channels >= 3;
  for (let p = 0, s = 0, o = 0; p < pixels; p++, s += channels, o += 3) {
    let r = samples[s]! >> shift;
    let g = colour ? samples[s + 1]! >> shift : r;
    let b = colour ? samples[s + 2]! >> shift : r;
    if (hasAlpha) {
      const a = samples[s + channels - 1]! >> shift;
      const white = 255 * (255 - a);
      r = (r * a + white + 127) / 255;
      g = (g * a + white + 127) / 255;
      b = (b * a + white + 127) / 255;
    }
    rgb[o] = r;
    rgb[o + 1] = g;
    rgb[o + 2] = b;
  }
  return rgb;
}

/** Greyscale packed 1, 2 or 4 bits per pixel (rows start on a byte) to one byte per pixel, 0-255. */
function unpackGrey(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  const scale = 255 / mask;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)]!;
      out[y * width + x] = ((byte >> (8 - depth - (bit & 7))) & mask) * scale;
    }
  }
  return out;
}
