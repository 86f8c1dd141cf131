// `GET /openapi.json` (the API as OpenAPI 3.1, generated from the routes) and `GET /docs` (the same
// document as a page a person reads, edge/docs/render.ts): server-rendered HTML with no script and no
// external resource, under a CSP that allows none.

import { Hono } from 'hono';
import type { Manifest } from '../../models/manifest.ts';
import { type OpenApiDocument, renderReference } from '../docs/render.ts';

const pageSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** `document` is built on first use: by then every route is mounted. */
export function docsRoutes(manifests: readonly Manifest[], document: () => Record<string, unknown>): Hono {
  let built: Record<string, unknown> | undefined;
  const once = () => {
    built ??= document();
    return built;
  };
  const docs = new Hono();
  docs.get('/openapi.json', (c) => c.json(once()));
  docs.get('/docs', async (c) => {
    c.header('Content-Security-Policy', pageSecurityPolicy);
    return c.html(await renderReference(once() as OpenApiDocument, manifests));
  });
  return docs;
}
