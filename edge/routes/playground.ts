// `GET /`: the playground, a page that sends a recording or an image to /v1/vad or /v1/ocr and draws
// the answer. Its files (edge/playground/) are bundled into the Worker as Text modules and served
// from memory with an ETag, under a CSP that allows scripts, styles and requests from this origin only.

import { Hono } from 'hono';
import { sha256Hex } from '../../models/integrity.ts';
import curlJs from '../playground/curl.js?raw';
import drawJs from '../playground/draw.js?raw';
import indexHtml from '../playground/index.html?raw';
import playgroundCss from '../playground/playground.css?raw';
import playgroundJs from '../playground/playground.js?raw';
import wavJs from '../playground/wav.js?raw';
import invoicePng from '../playground/samples/invoice.png';
import speechWav from '../playground/samples/speech-16k.wav';

/** What the page needs and nothing more: its own scripts and styles, its own API, the files the user picks (blob:). */
export const playgroundSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const javascript = 'text/javascript; charset=utf-8';

/** Every file the page is made of, by the path it is served at; nothing else is. */
const files: Record<string, { body: string | ArrayBuffer; contentType: string }> = {
  '/': { body: indexHtml, contentType: 'text/html; charset=utf-8' },
  '/playground/playground.css': { body: playgroundCss, contentType: 'text/css; charset=utf-8' },
  '/playground/playground.js': { body: playgroundJs, contentType: javascript },
  '/playground/curl.js': { body: curlJs, contentType: javascript },
  '/playground/draw.js': { body: drawJs, contentType: javascript },
  '/playground/wav.js': { body: wavJs, contentType: javascript },
  // Samples to try (copies of test/fixtures/speech-16k.wav and invoice.png), bundled as Data modules.
  '/playground/samples/speech-16k.wav': { body: speechWav, contentType: 'audio/wav' },
  '/playground/samples/invoice.png': { body: invoicePng, contentType: 'image/png' },
};

export function playgroundRoutes(): Hono {
  const playground = new Hono();
  // The files change only with a deployment: one hash each, taken on first use, names a version.
  const etags = new Map<string, Promise<string>>();
  for (const [path, file] of Object.entries(files)) {
    playground.get(path, async (c) => {
      if (!etags.has(path))
        etags.set(
          path,
          sha256Hex(typeof file.body === 'string' ? new TextEncoder().encode(file.body) : file.body).then((hex) => `"${hex.slice(0, 32)}"`),
        );
      const etag = await etags.get(path)!;
      // Revalidated on every load (a 304 costs a round trip, no body), so a deployment shows at once.
      c.header('ETag', etag);
      c.header('Cache-Control', 'no-cache');
      if (path === '/') c.header('Content-Security-Policy', playgroundSecurityPolicy);
      if (
        c.req
          .header('if-none-match')
          ?.split(',')
          .some((tag) => tag.trim() === etag)
      )
        return c.body(null, 304);
      c.header('Content-Type', file.contentType);
      return c.body(file.body);
    });
  }
  return playground;
}
