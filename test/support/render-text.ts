// Images of known text rendered with ImageMagick at test time: the OCR tests' real inputs.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `/usr/local/bin/convert` may be a stand-in that only forwards to this one. */
export const hasImageMagick = existsSync('/usr/bin/convert');

export interface RenderOptions {
  /** Lines of text, top to bottom. */
  lines: string[];
  /** An ImageMagick font name (`convert -list font`). */
  font: 'DejaVu-Sans' | 'Liberation-Serif' | 'Liberation-Sans' | 'Liberation-Mono';
  pointSize: number;
  format: 'png' | 'jpeg';
  /** Degrees clockwise the rendered text is turned before saving. */
  rotate?: 90 | 180 | 270;
  /** JPEG quality (default 90). */
  quality?: number;
}

export interface RenderedImage {
  path: string;
  bytes: Uint8Array;
}

export interface Renderer {
  render(name: string, options: RenderOptions): Promise<RenderedImage>;
  /** Removes every rendered file. */
  close(): Promise<void>;
}

export async function textRenderer(): Promise<Renderer> {
  const dir = await mkdtemp(join(tmpdir(), 'edgeinfer-ocr-'));
  return {
    async render(name, options) {
      const path = join(dir, `${name}.${options.format === 'png' ? 'png' : 'jpg'}`);
      const args = [
        '-background',
        'white',
        '-fill',
        'black',
        '-font',
        options.font,
        '-pointsize',
        String(options.pointSize),
        '-interline-spacing',
        String(Math.round(options.pointSize * 0.6)),
        `label:${options.lines.join('\n')}`,
        '-bordercolor',
        'white',
        '-border',
        String(Math.round(options.pointSize * 1.2)),
        ...(options.rotate ? ['-rotate', String(options.rotate)] : []),
        ...(options.format === 'jpeg' ? ['-quality', String(options.quality ?? 90)] : []),
        '-type',
        'TrueColor',
        path,
      ];
      await run('/usr/bin/convert', args);
      return { path, bytes: new Uint8Array(await readFile(path)) };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `jpegBytes` with an EXIF APP1 segment declaring `orientation` inserted after SOI (big-endian TIFF, one IFD0 entry). */
export function withExifOrientation(jpegBytes: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const payload = [...'Exif'].map((c) => c.charCodeAt(0)).concat([0, 0], tiff);
  const length = payload.length + 2;
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff, ...payload, ...jpegBytes.subarray(2)]);
}
