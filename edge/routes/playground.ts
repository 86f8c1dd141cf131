// `GET /`: the playground, a page that sends a recording or an image to /v1/vad or /v1/ocr and draws
// the answer. Its files (edge/playground/) are Workers Static Assets; wrangler.toml's
// `run_worker_first` routes every request here first, so the page gets the Worker's security headers
// and its own CSP, which allows scripts, styles and requests from this origin only.

import { type Context, Hono } from 'hono';
import { NotFound } from '../../protocol/errors.ts';

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

/** The asset store's binding, `[assets] binding` in wrangler.toml; only `fetch` is used. */
type PlaygroundEnv = { Bindings: { ASSETS?: { fetch(request: Request): Promise<Response> } } };

async function fromAssets(c: Context<PlaygroundEnv>): Promise<Response> {
  // A binding exists only per request, so it is read here rather than at start-up; a Worker deployed
  // without `[assets]` answers the page's routes as it answers any unknown route.
  const assets = c.env?.ASSETS;
  if (!assets) throw new NotFound('the playground is not served here (no ASSETS binding)');
  // The caller's request as it came: the asset store answers If-None-Match with 304 itself.
  const asset = await assets.fetch(c.req.raw);
  if (asset.status === 404) throw new NotFound(`no route for ${c.req.method} ${c.req.path}`);
  // The binding's headers are immutable; the middleware after this one adds to them.
  return new Response(asset.body, { status: asset.status, headers: new Headers(asset.headers) });
}

export function playgroundRoutes(): Hono<PlaygroundEnv> {
  const playground = new Hono<PlaygroundEnv>();
  playground.get('/', async (c) => {
    const page = await fromAssets(c);
    page.headers.set('Content-Security-Policy', playgroundSecurityPolicy);
    return page;
  });
  // The page's own scripts and stylesheet; anything else at the root stays the API's JSON 404.
  playground.get('/:asset{[a-z-]+\\.(?:js|css)}', fromAssets);
  return playground;
}
