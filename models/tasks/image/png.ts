// PNG to 8-bit RGB. The image data is inflated by the platform's own zlib (DecompressionStream, in
// workerd and Node alike), counting as it goes so a stream that inflates past what the declared size
// needs (a decompression bomb) stops there; 8- and 16-bit non-interlaced images, nearly all PNGs, are
// then unfiltered and converted here in one pass each. Interlaced and 1/2/4-bit ones go to fast-png.

import { convertIndexedToRgb, decode as decodeWithFastPng, type DecodedPng } from 'fast-png';
import { InvalidInput } from '../../../protocol/errors.ts';
import type { RgbImage } from './rgb-image.ts';
import type { ImageHeader } from './header.ts';

const channelsOf: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface Chunks {
  depth: number;
  colourType: number;
  interlaced: boolean;
  idat: Uint8Array<ArrayBuffer>[];
  palette?: Uint8Array;
  paletteAlpha?: Uint8Array;
}

function readChunks(bytes: Uint8Array): Chunks {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunks = { depth: bytes[24]!, colourType: bytes[25]!, interlaced: bytes[28] === 1, idat: [] };
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const end = Math.min(at + 8 + length, bytes.length);
    const data = bytes.subarray(at + 8, end);
    if (type === 0x49444154 /* IDAT */) chunks.idat.push(data.slice());
    else if (type === 0x504c5445 /* PLTE */) chunks.palette = data;
    else if (type === 0x74524e53 /* tRNS */) chunks.paletteAlpha = data;
    else if (type === 0x49454e44 /* IEND */) break;
    at = end + 4;
  }
  return chunks;
}

/** Inflates the IDAT stream into `out`, refusing one that holds more than `out` can take. */
async function inflateInto(chunks: Chunks, out: Uint8Array, header: ImageHeader): Promise<number> {
  const reader = new Blob(chunks.idat).stream().pipeThrough(new DecompressionStream('deflate')).getReader();
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return filled;
      if (filled + value.length > out.length) {
        await reader.cancel().catch(() => {});
        throw new InvalidInput(
          `the PNG's image data inflates to more than the ${out.length} bytes its declared ${header.width}x${header.height} pixels need`,
        );
      }
      out.set(value, filled);
      filled += value.length;
    }
  } catch (err) {
    if (err instanceof InvalidInput) throw err;
    throw new InvalidInput(`the PNG's image data is not a valid zlib stream (${err instanceof Error ? err.message : String(err)})`);
  }
}

export async function decodePng(bytes: Uint8Array, header: ImageHeader): Promise<RgbImage> {
  const chunks = readChunks(bytes);
  const channels = channelsOf[chunks.colourType];
  if (channels === undefined) throw new InvalidInput(`the PNG has an invalid colour type ${chunks.colourType}`);
  if (chunks.idat.length === 0) throw new InvalidInput('the PNG has no image data (IDAT)');
  const { width, height } = header;
  if (chunks.interlaced || chunks.depth < 8) {
    // Adam7 adds at most a filter byte and a partial byte per row of each of its 7 passes.
    const bound = height * (Math.ceil((width * channels * chunks.depth) / 8) + 1) + 14 * height + 64;
    await inflateInto(chunks, new Uint8Array(bound), header);
    const png = decodeWithFastPng(bytes);
    return { width: png.width, height: png.height, rgb: fastPngToRgb(png) };
  }
  if (chunks.depth !== 8 && chunks.depth !== 16) throw new InvalidInput(`the PNG has an invalid bit depth ${chunks.depth}`);
  const bytesPerPixel = (channels * chunks.depth) / 8;
  const rowBytes = width * bytesPerPixel;
  const raw = new Uint8Array(height * (rowBytes + 1));
  const filled = await inflateInto(chunks, raw, header);
  if (filled < raw.length)
    throw new InvalidInput(`the PNG's image data ends after ${filled} of the ${raw.length} bytes its ${width}x${height} pixels need`);
  unfilter(raw, height, rowBytes, bytesPerPixel);
  return { width, height, rgb: toRgb(raw, width, height, rowBytes, channels, chunks) };
}

/** Undoes the per-row filters (PNG spec 9) in place; row y's bytes start at y * (rowBytes + 1) + 1. */
function unfilter(raw: Uint8Array, height: number, rowBytes: number, bpp: number): void {
  const stride = rowBytes + 1;
  for (let y = 0; y < height; y++) {
    const row = y * stride + 1;
    const filter = raw[row - 1]!;
    const end = row + rowBytes;
    // The first row has no row above: Up is None, Average halves Sub, Paeth is Sub.
    const effective = y > 0 ? filter : filter === 2 ? 0 : filter === 4 ? 1 : filter;
    const upOffset = stride;
    switch (effective) {
      case 0:
        break;
      case 1:
        for (let i = row + bpp; i < end; i++) raw[i] = (raw[i]! + raw[i - bpp]!) & 0xff;
        break;
      case 2:
        for (let i = row; i < end; i++) raw[i] = (raw[i]! + raw[i - upOffset]!) & 0xff;
        break;
      case 3:
        if (y === 0) {
          for (let i = row + bpp; i < end; i++) raw[i] = (raw[i]! + (raw[i - bpp]! >> 1)) & 0xff;
          break;
        }
        for (let i = row; i < row + bpp; i++) raw[i] = (raw[i]! + (raw[i - upOffset]! >> 1)) & 0xff;
        for (let i = row + bpp; i < end; i++) raw[i] = (raw[i]! + ((raw[i - bpp]! + raw[i - upOffset]!) >> 1)) & 0xff;
        break;
      case 4:
        for (let i = row; i < row + bpp; i++) raw[i] = (raw[i]! + raw[i - upOffset]!) & 0xff;
        for (let i = row + bpp; i < end; i++) {
          const left = raw[i - bpp]!;
          const above = raw[i - upOffset]!;
          const upperLeft = raw[i - upOffset - bpp]!;
          const pa = Math.abs(above - upperLeft);
          const pb = Math.abs(left - upperLeft);
          const pc = Math.abs(left + above - 2 * upperLeft);
          raw[i] = (raw[i]! + (pa <= pb && pa <= pc ? left : pb <= pc ? above : upperLeft)) & 0xff;
        }
        break;
      default:
        throw new InvalidInput(`the PNG's row ${y} has an unknown filter type ${filter}`);
    }
  }
}

/** Unfiltered rows of 8- or 16-bit samples (the high byte kept) to RGB, alpha over white. */
function toRgb(raw: Uint8Array, width: number, height: number, rowBytes: number, channels: number, chunks: Chunks): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const step = chunks.depth / 8;
  if (chunks.colourType === 2 && step === 1) {
    // 8-bit RGB, the common case: the rows are the answer.
    for (let y = 0; y < height; y++) rgb.set(raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1)), y * rowBytes);
    return rgb;
  }
  if (chunks.colourType === 0 && step === 1) {
    // 8-bit grey, what encoders write for black text on white even when asked for colour.
    for (let y = 0, o = 0; y < height; y++) {
      for (let s = y * (rowBytes + 1) + 1, end = s + width; s < end; s++, o += 3) {
        const v = raw[s]!;
        rgb[o] = v;
        rgb[o + 1] = v;
        rgb[o + 2] = v;
      }
    }
    return rgb;
  }
  const { palette, paletteAlpha } = chunks;
  if (chunks.colourType === 3 && !palette) throw new InvalidInput('the PNG is indexed but has no palette (PLTE)');
  for (let y = 0, o = 0; y < height; y++) {
    let s = y * (rowBytes + 1) + 1;
    for (let x = 0; x < width; x++, o += 3, s += channels * step) {
      let r: number,
        g: number,
        b: number,
        a = 255;
      if (chunks.colourType === 3) {
        const index = raw[s]!;
        r = palette![index * 3] ?? 0;
        g = palette![index * 3 + 1] ?? 0;
        b = palette![index * 3 + 2] ?? 0;
        a = paletteAlpha?.[index] ?? 255;
      } else if (channels >= 3) {
        r = raw[s]!;
        g = raw[s + step]!;
        b = raw[s + 2 * step]!;
        if (channels === 4) a = raw[s + 3 * step]!;
      } else {
        r = g = b = raw[s]!;
        if (channels === 2) a = raw[s + step]!;
      }
      storeOverWhite(rgb, o, r, g, b, a);
    }
  }
  return rgb;
}

/** Writes one pixel at `o`, composited over white by its alpha (rounded, as ImageMagick flattens). */
function storeOverWhite(rgb: Uint8Array, o: number, r: number, g: number, b: number, a: number): void {
  if (a !== 255) {
    const white = 255 * (255 - a) + 127;
    r = (r * a + white) / 255;
    g = (g * a + white) / 255;
    b = (b * a + white) / 255;
  }
  rgb[o] = r;
  rgb[o + 1] = g;
  rgb[o + 2] = b;
}

/** fast-png's output (interlaced or 1/2/4-bit images) to RGB, alpha over white. */
function fastPngToRgb(png: DecodedPng): Uint8Array {
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
  const rgb = new Uint8Array(pixels * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const colour = channels >= 3;
  for (let p = 0, s = 0, o = 0; p < pixels; p++, s += channels, o += 3) {
    const r = samples[s]! >> shift;
    const g = colour ? samples[s + 1]! >> shift : r;
    const b = colour ? samples[s + 2]! >> shift : r;
    storeOverWhite(rgb, o, r, g, b, hasAlpha ? samples[s + channels - 1]! >> shift : 255);
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
