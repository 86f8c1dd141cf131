// A page of ten printed lines rendered by ImageMagick: the OCR benchmark's input, real text in a real
// font rather than random pixels.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const pageLines = [
  'Edge inference bills by use and scales to zero.',
  'Small quantized models run in WebAssembly.',
  'Heavy models go to the GPU backend, signed.',
  'Every request is authenticated and rate limited.',
  'Usage is metered per key and per day.',
  'Speech segments come back in milliseconds.',
  'Text lines come back in reading order.',
  'Both tiers speak the Open Inference Protocol.',
  'Dynamic batching joins concurrent requests.',
  'The README is the manual for every user.',
];

export function renderPage(
  lines: readonly string[] = pageLines,
  layout: { width?: number; lineHeight?: number } = {},
): { png: Uint8Array; width: number; height: number; lines: readonly string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'edgeinfer-page-'));
  try {
    const path = join(dir, 'page.png');
    const { width = 900, lineHeight = 48 } = layout;
    const height = lineHeight * lines.length + 40;
    const draw = lines.flatMap((line, i) => ['-annotate', `+20+${Math.round(lineHeight * 0.8) + 10 + i * lineHeight}`, line]);
    execFileSync('convert', [
      '-size',
      `${width}x${height}`,
      'xc:white',
      '-font',
      'DejaVu-Sans',
      '-pointsize',
      '26',
      '-fill',
      'black',
      ...draw,
      path,
    ]);
    return { png: new Uint8Array(readFileSync(path)), width, height, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
