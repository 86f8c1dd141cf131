// `GET /openapi.json` (the API as OpenAPI 3.1) and `GET /docs` (the same document as a page a person
// reads): server-rendered HTML with no script and no external resource, under a CSP that allows none.

import { Hono } from 'hono';
import { html } from 'hono/html';
import type { Manifest } from '../../models/manifest.ts';
import { openApiDocument } from '../openapi.ts';

type Operation = { summary: string; description?: string; responses: Record<string, { description: string }> };

const pageSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function docsRoutes(manifests: readonly Manifest[]): Hono {
  const document = openApiDocument(manifests);
  const paths = document.paths as Record<string, Record<string, Operation>>;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeinfer API reference</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  code { background: #f3f3f3; padding: 0 .25rem; border-radius: 3px; }
  section { border-top: 1px solid #ddd; padding: .5rem 0; }
  .method { font-weight: 700; text-transform: uppercase; margin-right: .5rem; }
  td { padding: .1rem .75rem .1rem 0; vertical-align: top; }
</style>
</head>
<body>
<h1>edgeinfer API reference</h1>
<p>${(document.info as { description: string }).description} Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Models</h2>
<table>${manifests.map((m) => html`<tr><td><code>${m.name}</code></td><td>${m.tier}</td><td>${m.description}</td></tr>`)}</table>
<h2>Routes</h2>
${Object.entries(paths).flatMap(([path, operations]) =>
  Object.entries(operations).map(
    ([method, op]) => html`<section>
<h3><span class="method">${method}</span><code>${path}</code></h3>
<p>${op.summary}${op.description ? html`. ${op.description}` : ''}</p>
<table>${Object.entries(op.responses).map(([status, response]) => html`<tr><td><code>${status}</code></td><td>${response.description}</td></tr>`)}</table>
</section>`,
  ),
)}
</body>
</html>`;

  const docs = new Hono();
  docs.get('/openapi.json', (c) => c.json(document));
  docs.get('/docs', async (c) => {
    c.header('Content-Security-Policy', pageSecurityPolicy);
    return c.html(await page);
  });
  return docs;
}
