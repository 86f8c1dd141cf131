// Decoding to 8-bit RGB: every PNG layout (grey, grey+alpha, palette, RGB, RGBA, 1 to 16 bits) and
// JPEG, alpha composited over white, and 4xx errors for truncated or inflating-bomb files.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../../models/tasks/image/decode.ts';
import { inspectImage } from '../../../models/tasks/image/header.ts';
import { InvalidInput } from '../../../protocol/errors.ts';
import { hasImageMagick, withExifOrientation } from '../../support/render-text.ts';

const decode = (bytes: Uint8Array) => decodeImage(bytes, inspectImage(bytes, 25_000_000));

function pixel(rgb: Uint8Array, width: number, x: number, y: number): number[] {
  const at = (y * width + x) * 3;
  return [rgb[at]!, rgb[at + 1]!, rgb[at + 2]!];
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typed = new Uint8Array([...type].map((c) => c.charCodeAt(0)));
  out.set(typed, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(Buffer.concat([typed, data])));
  return out;
}

/** A PNG of `width` x `height` RGB whose IDAT holds `inflated` bytes of zeros, whatever the size needs. */
function pngWithIdat(width: number, height: number, inflated: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const idat = new Uint8Array(deflateSync(new Uint8Array(inflated)));
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', idat),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

describe('decodeImage', () => {
  it('decodes an RGB PNG as it was encoded', async () => {
    const data = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const image = await decode(encodePng({ width: 2, height: 2, data, channels: 3, depth: 8 }));
    expect(image).toEqual({ width: 2, height: 2, rgb: data });
  });

  it('composites RGBA over white', async () => {
    const data = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 128, 10, 20, 30, 255]);
    const { rgb } = await decode(encodePng({ width: 2, height: 2, data, channels: 4, depth: 8 }));
    expect([...rgb]).toEqual([255, 255, 255, 0, 0, 0, 255, 127, 127, 10, 20, 30]);
  });

  it('expands greyscale and grey+alpha to RGB', async () => {
    const grey = await decode(encodePng({ width: 2, height: 1, data: new Uint8Array([0, 200]), channels: 1, depth: 8 }));
    expect([...grey.rgb]).toEqual([0, 0, 0, 200, 200, 200]);
    const greyAlpha = await decode(encodePng({ width: 2, height: 1, data: new Uint8Array([0, 0, 100, 255]), channels: 2, depth: 8 }));
    expect([...greyAlpha.rgb]).toEqual([255, 255, 255, 100, 100, 100]);
  });

  it('keeps the high byte of 16-bit samples', async () => {
    const data = new Uint16Array([0xffff, 0x8000, 0x0100]);
    const { rgb } = await decode(encodePng({ width: 1, height: 1, data, channels: 3, depth: 16 }));
    expect([...rgb]).toEqual([255, 128, 1]);
  });

  it('decodes a JPEG to RGB close to what was encoded', async () => {
    const rgba = new Uint8Array(16 * 16 * 4);
    for (let i = 0; i < rgba.length; i += 4) rgba.set([200, 100, 50, 255], i);
    const { width, height, rgb } = await decode(new Uint8Array(jpeg.encode({ width: 16, height: 16, data: rgba }, 95).data));
    expect([width, height]).toEqual([16, 16]);
    pixel(rgb, 16, 8, 8).forEach((value, c) => expect(Math.abs(value - [200, 100, 50][c]!)).toBeLessThanOrEqual(4));
  });

  it('refuses a PNG cut off inside its image data', async () => {
    const whole = encodePng({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).map((_, i) => i), channels: 3, depth: 8 });
    await expect(decode(whole.slice(0, whole.length / 2))).rejects.toThrow(InvalidInput);
  });

  it('refuses a JPEG cut off inside its scan, or decodes what is there', async () => {
    const rgba = new Uint8Array(64 * 64 * 4).map((_, i) => (i * 7) & 0xff);
    const whole = new Uint8Array(jpeg.encode({ width: 64, height: 64, data: rgba }, 90).data);
    // jpeg-js tolerates a short scan (the missing blocks stay grey); anything else must be a 400.
    await decode(whole.slice(0, whole.length - 200)).then(
      (image) => expect(image.width).toBe(64),
      (err) => expect(err).toBeInstanceOf(InvalidInput),
    );
  });

  it('refuses a PNG whose image data inflates to far more than its declared size needs', async () => {
    const bomb = pngWithIdat(10, 10, 64 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(100_000);
    await expect(decode(bomb)).rejects.toThrow(/inflates to more than the 310 bytes its declared 10x10 pixels need/);
  });

  it('refuses a PNG whose data decodes to a size other than its header says', async () => {
    await expect(decode(pngWithIdat(10, 10, 5 * 31))).rejects.toThrow(InvalidInput);
  });
});

describe('decodeImage and EXIF orientation', () => {
  // A 3x2 image of distinct flat colours, large blocks so JPEG keeps them apart.
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [0, 0, 0],
    [255, 255, 255],
  ];
  const block = 16;
  const rgba = new Uint8Array(3 * block * 2 * block * 4);
  for (let y = 0; y < 2 * block; y++) {
    for (let x = 0; x < 3 * block; x++)
      rgba.set([...colours[Math.floor(y / block) * 3 + Math.floor(x / block)]!, 255], (y * 3 * block + x) * 4);
  }
  const plain = new Uint8Array(jpeg.encode({ width: 3 * block, height: 2 * block, data: rgba }, 95).data);
  const colourAt = (image: { width: number; rgb: Uint8Array }, bx: number, by: number) =>
    colours.findIndex((c) =>
      pixel(image.rgb, image.width, bx * block + block / 2, by * block + block / 2).every((v, i) => Math.abs(v - c[i]!) < 40),
    );

  it.each([
    [
      1,
      3,
      2,
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
    ],
    [
      3,
      3,
      2,
      [
        [5, 4, 3],
        [2, 1, 0],
      ],
    ],
    [
      6,
      2,
      3,
      [
        [3, 0],
        [4, 1],
        [5, 2],
      ],
    ],
    [
      8,
      2,
      3,
      [
        [2, 5],
        [1, 4],
        [0, 3],
      ],
    ],
    [
      2,
      3,
      2,
      [
        [2, 1, 0],
        [5, 4, 3],
      ],
    ],
  ] as [number, number, number, number[][]][])(
    'orientation %i gives a %ix%i-block image laid out as a viewer sees it',
    async (orientation, blocksWide, blocksHigh, layout) => {
      const image = await decode(withExifOrientation(plain, orientation));
      expect([image.width, image.height]).toEqual([blocksWide * block, blocksHigh * block]);
      expect(layout.map((row, by) => row.map((_, bx) => colourAt(image, bx, by)))).toEqual(layout);
    },
  );
});

describe.skipIf(!hasImageMagick)('decodeImage on the PNG layouts ImageMagick writes', () => {
  let dir: string;
  let reference: Uint8Array;
  const run = promisify(execFile);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeinfer-png-'));
    // Eight grey levels and a red square: representable exactly in every layout below but 1-bit.
    await run('/usr/bin/convert', [
      '-size',
      '32x16',
      'gradient:black-white',
      '-posterize',
      '4',
      '-fill',
      'red',
      '-draw',
      'rectangle 2,2 6,6',
      join(dir, 'source.png'),
    ]);
    reference = new Uint8Array(await readFile(join(dir, 'source.png')));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function viaImageMagick(format: string, extra: string[] = []): Promise<{ ours: Uint8Array; theirs: Uint8Array }> {
    const path = join(dir, `${format.replace(':', '')}.png`);
    await run('/usr/bin/convert', [join(dir, 'source.png'), ...extra, `${format}${path}`]);
    const ppm = (
      await run('/usr/bin/convert', [path, '-background', 'white', '-alpha', 'remove', '-depth', '8', 'rgb:-'], { encoding: 'buffer' })
    ).stdout;
    return { ours: (await decode(new Uint8Array(await readFile(path)))).rgb, theirs: new Uint8Array(ppm) };
  }

  it.each([
    ['PNG8:', []],
    ['PNG24:', []],
    ['PNG32:', ['-alpha', 'set', '-channel', 'A', '-evaluate', 'set', '60%']],
    ['PNG48:', []],
    ['PNG64:', []],
    ['PNG:', ['-colorspace', 'Gray', '-depth', '2']],
    ['PNG:', ['-monochrome']],
    ['PNG24:', ['-interlace', 'PNG']],
    ['PNG8:', ['-interlace', 'PNG']],
  ] as [string, string[]][])('%s %j decodes to the RGB ImageMagick gives', async (format, extra) => {
    const { ours, theirs } = await viaImageMagick(format, extra);
    expect(ours.length).toBe(theirs.length);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
    expect(worst).toBeLessThanOrEqual(1);
    expect(reference.length).toBeGreaterThan(0);
  });

  // fast-png 8 cannot unfilter Adam7-interlaced images of fewer than 8 bits per sample; they are
  // rare (a 16-colour palette, interlaced) and get a 400 naming the decoder's complaint, not a 500.
  it('refuses an interlaced 4-bit palette PNG with a 400', async () => {
    const path = join(dir, 'interlaced-4bit.png');
    await run('/usr/bin/convert', [join(dir, 'source.png'), '-interlace', 'PNG', `PNG:${path}`]);
    await expect(decode(new Uint8Array(await readFile(path)))).rejects.toThrow(InvalidInput);
  });
});
