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
  font: 'DejaVu-Sans' | 'Liberation-Serif';
  pointSize: number;
  format: 'png' | 'jpeg';
  rotate180?: boolean;
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
        '-background', 'white', '-fill', 'black', '-font', options.font, '-pointsize', String(options.pointSize),
        '-interline-spacing', String(Math.round(options.pointSize * 0.6)),
        `label:${options.lines.join('\n')}`,
        '-bordercolor', 'white', '-border', String(Math.round(options.pointSize * 1.2)),
        ...(options.rotate180 ? ['-rotate', '180'] : []),
        ...(options.format === 'jpeg' ? ['-quality', '90'] : []),
        '-type', 'TrueColor', path,
      ];
      await run('/usr/bin/convert', args);
      return { path, bytes: new Uint8Array(await readFile(path)) };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
