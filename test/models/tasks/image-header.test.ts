// The header check that runs before any decoding: format, declared size against the limit, and clear
// 4xx errors for everything else, including a property test over arbitrary and mutated bytes.

import fc from 'fast-check';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../../models/tasks/image/decode.ts';
import { inspectImage } from '../../../models/tasks/image/header.ts';
import { ocrTask } from '../../../models/tasks/catalog.ts';
import { parseDictionary, readText } from '../../../models/tasks/ocr/index.ts';
import type { RunModel } from '../../../models/tasks/run-model.ts';
import { HttpError, InvalidInput, PayloadTooLarge } from '../../../protocol/errors.ts';

const maxPixels = ocrTask.limits.maxPixels;

function rgbImage(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
  return data;
}

const png = encodePng({ width: 40, height: 30, data: rgbImage(40, 30), channels: 3, depth: 8 });
const rgba = new Uint8Array(40 * 30 * 4).fill(200);
const jpg = new Uint8Array(jpeg.encode({ width: 40, height: 30, data: rgba }, 90).data);

/** A PNG signature and IHDR declaring `width` x `height`, with nothing after it. */
function pngHeaderDeclaring(width: number, height: number): Uint8Array {
  const bytes = png.slice(0, 33);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

/** The encoded JPEG with its frame header (SOF0) declaring `width` x `height`. */
function jpegDeclaring(width: number, height: number): Uint8Array {
  const bytes = jpg.slice();
  const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
  const view = new DataView(bytes.buffer);
  view.setUint16(sof + 5, height);
  view.setUint16(sof + 7, width);
  return bytes;
}

const neverRun: RunModel = () => {
  throw new Error('a model ran for an image that should have been refused');
};

describe('inspectImage', () => {
  it('reads the format and size of a PNG and a JPEG from their headers', () => {
    expect(inspectImage(png, maxPixels)).toEqual({ format: 'png', width: 40, height: 30 });
    expect(inspectImage(jpg, maxPixels)).toEqual({ format: 'jpeg', width: 40, height: 30 });
  });

  it('refuses an empty file, saying which formats are accepted', () => {
    expect(() => inspectImage(new Uint8Array(0), maxPixels)).toThrow(InvalidInput);
    expect(() => inspectImage(new Uint8Array(0), maxPixels)).toThrow(/empty.*PNG or JPEG/);
  });

  it('refuses bytes that are not an image', () => {
    const text = new TextEncoder().encode('GIF89a is not accepted, nor is this text');
    expect(() => inspectImage(text, maxPixels)).toThrow(InvalidInput);
    expect(() => inspectImage(text, maxPixels)).toThrow(/not a PNG or JPEG/);
  });

  it('refuses a PNG cut off before its IHDR ends', () => {
    expect(() => inspectImage(png.slice(0, 20), maxPixels)).toThrow(InvalidInput);
    expect(() => inspectImage(png.slice(0, 20), maxPixels)).toThrow(/PNG is truncated/);
  });

  it('refuses a JPEG cut off before its frame header', () => {
    expect(() => inspectImage(jpg.slice(0, 30), maxPixels)).toThrow(InvalidInput);
    expect(() => inspectImage(jpg.slice(0, 30), maxPixels)).toThrow(/JPEG is truncated/);
  });

  it('refuses a header declaring 100000x100000 pixels with 413, naming both numbers, before decoding', async () => {
    const bomb = pngHeaderDeclaring(100_000, 100_000);
    expect(() => inspectImage(bomb, maxPixels)).toThrow(PayloadTooLarge);
    expect(() => inspectImage(bomb, maxPixels)).toThrow(`100000x100000 = 10000000000 pixels, more than the limit of ${maxPixels}`);
    const started = performance.now();
    await expect(readText(bomb, neverRun, { dictionary: parseDictionary('a'), maxPixels })).rejects.toThrow(PayloadTooLarge);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('refuses a JPEG whose frame header declares 65535x65535 pixels with 413', () => {
    expect(() => inspectImage(jpegDeclaring(65_535, 65_535), maxPixels)).toThrow(PayloadTooLarge);
  });

  it('refuses a header declaring zero pixels', () => {
    expect(() => inspectImage(pngHeaderDeclaring(0, 10), maxPixels)).toThrow(/empty image/);
  });
});

describe('readText on hostile bytes', () => {
  // Detection finds nothing, so an image that decodes ends the pipeline at once; cls and rec never run.
  const emptyDetection: RunModel = async (model, feeds) => {
    if (model !== ocrTask.models[0]) throw new Error(`${model} ran although nothing was detected`);
    const [, , height, width] = Object.values(feeds)[0]!.shape as [number, number, number, number];
    return { 'sigmoid_0.tmp_0': { datatype: 'FP32', shape: [1, 1, height, width], data: new Float32Array(height * width) } };
  };
  const dictionary = parseDictionary('a');

  async function onlyHttpErrors(bytes: Uint8Array): Promise<boolean> {
    try {
      await decodeImage(bytes, inspectImage(bytes, maxPixels));
      const result = await readText(bytes, emptyDetection, { dictionary, maxPixels });
      expect(result.lines).toEqual([]);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      expect(err.status).toBeGreaterThanOrEqual(400);
      expect(err.status).toBeLessThan(500);
    }
    return true;
  }

  it('throws only 4xx errors for arbitrary bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), onlyHttpErrors), { numRuns: 300 });
  });

  it('throws only 4xx errors for arbitrary bytes after a PNG or JPEG signature', async () => {
    const signed = fc
      .tuple(fc.constantFrom(png.slice(0, 16), jpg.slice(0, 3)), fc.uint8Array({ maxLength: 256 }))
      .map(([head, tail]) => new Uint8Array([...head, ...tail]));
    await fc.assert(fc.asyncProperty(signed, onlyHttpErrors), { numRuns: 300 });
  });

  it('throws only 4xx errors for valid images with bytes changed or cut off', async () => {
    const mutated = fc
      .tuple(
        fc.constantFrom(png, jpg),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
      )
      .map(([image, changes, cut]) => {
        const bytes = image.slice(0, cut === null ? image.length : cut % (image.length + 1));
        for (const [at, value] of changes) if (bytes.length > 0) bytes[at % bytes.length] = value;
        return bytes;
      });
    await fc.assert(fc.asyncProperty(mutated, onlyHttpErrors), { numRuns: 400 });
  });
});
