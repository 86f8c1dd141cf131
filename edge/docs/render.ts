// The API reference page: the OpenAPI document the routes generate, rendered on the server as plain
// HTML (no script, no outside resource) — every operation with its parameters, request bodies,
// answers, schemas and examples, and every named schema once, linked from where it is used.

import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Manifest } from '../../models/manifest.ts';
import { formatBytes } from '../openapi.ts';

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  items?: Schema;
  prefixItems?: Schema[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxLength?: number;
};
type Media = { schema?: Schema; example?: unknown };
type Parameter = { name: string; in: string; required?: boolean; description?: string; schema?: Schema; example?: unknown };
type Operation = {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
};
export type OpenApiDocument = {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

type Fragment = HtmlEscapedString | Promise<HtmlEscapedString> | string;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Prose from the document, where a name written between backticks is shown as code, not as backticks. */
function prose(text: string | undefined): Fragment {
  if (!text) return '';
  return raw(escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>'));
}

const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);
const schemaLink = (name: string) => html`<a href="#schema-${name}"><code>${name}</code></a>`;

/** A schema in a few words: its type, constraints and default; a named schema as a link to it. */
function typeOf(schema: Schema | undefined): Fragment {
  if (!schema) return 'any';
  if (schema.$ref) return schemaLink(refName(schema.$ref));
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return html`${variants.map((variant, i) => html`${i > 0 ? ' or ' : ''}${typeOf(variant)}`)}`;
  if (schema.allOf) return html`${schema.allOf.map((part, i) => html`${i > 0 ? ' and ' : ''}${typeOf(part)}`)}`;
  if (schema.const !== undefined) return html`<code>${JSON.stringify(schema.const)}</code>`;
  if (schema.enum) return html`one of ${schema.enum.map((value, i) => html`${i > 0 ? ', ' : ''}<code>${String(value)}</code>`)}`;
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'any');
  const constraints = [
    schema.format && `format ${schema.format}`,
    schema.minimum !== undefined && `≥ ${schema.minimum}`,
    schema.exclusiveMinimum !== undefined && `> ${schema.exclusiveMinimum}`,
    schema.maximum !== undefined && `≤ ${schema.maximum}`,
    schema.exclusiveMaximum !== undefined && `< ${schema.exclusiveMaximum}`,
    schema.minItems !== undefined && `at least ${schema.minItems}`,
    schema.maxLength !== undefined && `at most ${schema.maxLength} characters`,
    schema.default !== undefined && `default ${JSON.stringify(schema.default)}`,
  ].filter(Boolean);
  const base =
    type === 'array' && schema.items
      ? html`array of ${typeOf(schema.items)}`
      : type === 'array' && schema.prefixItems
        ? html`[${schema.prefixItems.map((item, i) => html`${i > 0 ? ', ' : ''}${typeOf(item)}`)}]`
        : type === 'object' && typeof schema.additionalProperties === 'object'
          ? html`map of string to ${typeOf(schema.additionalProperties)}`
          : type;
  return constraints.length > 0 ? html`${base} (${constraints.join(', ')})` : base;
}

/** An object's fields as a table; any other schema in a line. */
function schemaBlock(schema: Schema | undefined): Fragment {
  if (!schema?.properties) return html`<p class="type">${typeOf(schema)}</p>`;
  const required = new Set(schema.required ?? []);
  return html`<table class="fields">
<tr><th>field</th><th>type</th><th></th></tr>
${Object.entries(schema.properties).map(
  ([name, property]) =>
    html`<tr><td><code>${name}</code>${required.has(name) ? html` <span class="req">required</span>` : ''}</td><td>${typeOf(property)}</td><td>${prose(property.description)}</td></tr>`,
)}
</table>`;
}

const example = (value: unknown) =>
  value === undefined ? '' : html`<details><summary>example</summary><pre>${JSON.stringify(value, null, 2)}</pre></details>`;

function media(content: Record<string, Media> | undefined): Fragment {
  if (!content) return '';
  return html`${Object.entries(content).map(
    ([type, { schema, example: sample }]) =>
      html`<div class="media"><code>${type}</code>: ${schema?.properties ? schemaBlock(schema) : typeOf(schema)}${example(sample)}</div>`,
  )}`;
}

function operation(path: string, method: string, op: Operation): Fragment {
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  return html`<section id="${id}">
<h3><span class="method ${method}">${method}</span><code>${path}</code></h3>
<p>${prose(op.summary)}${op.security ? html` <span class="auth">needs a credential</span>` : ''}</p>
${op.description ? html`<p>${prose(op.description)}</p>` : ''}
${
  op.parameters?.length
    ? html`<h4>Parameters</h4><table class="fields"><tr><th>name</th><th>in</th><th>type</th><th></th></tr>${op.parameters.map(
        (p) =>
          html`<tr><td><code>${p.name}</code>${p.required ? html` <span class="req">required</span>` : ''}</td><td>${p.in}</td><td>${typeOf(p.schema)}</td><td>${prose(p.description)}${
            p.example !== undefined || (p.schema as { example?: unknown } | undefined)?.example !== undefined
              ? html` (e.g. <code>${String(p.example ?? (p.schema as { example?: unknown }).example)}</code>)`
              : ''
          }</td></tr>`,
      )}</table>`
    : ''
}
${op.requestBody ? html`<h4>Request body</h4>${media(op.requestBody.content)}` : ''}
<h4>Answers</h4>
<table class="answers">${Object.entries(op.responses).map(
    ([status, response]) =>
      html`<tr><td><code>${status}</code></td><td>${prose(response.description)}${status.startsWith('2') ? media(response.content) : ''}</td></tr>`,
  )}</table>
</section>`;
}

export function renderReference(document: OpenApiDocument, manifests: readonly Manifest[]): Promise<HtmlEscapedString> | HtmlEscapedString {
  const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${document.info.title} API reference</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  code, pre { background: #f3f3f3; border-radius: 3px; } code { padding: 0 .25rem; } pre { padding: .5rem; overflow-x: auto; }
  section { border-top: 1px solid #ddd; padding: .5rem 0; }
  .method { font-weight: 700; text-transform: uppercase; margin-right: .5rem; } .get { color: #1a7f37; } .post { color: #0550ae; }
  .req, .auth { font-size: .8em; color: #8a4600; } table { border-collapse: collapse; } td, th { padding: .15rem .75rem .15rem 0; vertical-align: top; text-align: left; }
  nav li { list-style: none; } h4 { margin: .75rem 0 .25rem; }
</style>
</head>
<body>
<h1>${document.info.title} API reference <small>${document.info.version}</small></h1>
<p>${prose(document.info.description)} Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Models</h2>
<table><tr><th>model</th><th>tier</th><th>versions</th><th>largest request</th><th></th></tr>
${manifests.map(
  (m) =>
    html`<tr><td><code>${m.name}</code></td><td>${m.tier}</td><td>${m.versions.map((v) => v.version).join(', ')}</td><td>${formatBytes(m.limits.maxRequestBytes)}</td><td>${m.description}</td></tr>`,
)}
</table>
<h2>Routes</h2>
<nav><ul>${operations.map(
    ({ path, method }) =>
      html`<li><a href="#${`${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-')}"><span class="method ${method}">${method}</span><code>${path}</code></a></li>`,
  )}</ul></nav>
${operations.map(({ path, method, op }) => operation(path, method, op))}
<h2>Schemas</h2>
${Object.entries(document.components?.schemas ?? {}).map(
  ([name, schema]) =>
    html`<section id="schema-${name}"><h3><code>${name}</code></h3>${schema.description ? html`<p>${prose(schema.description)}</p>` : ''}${schemaBlock(schema)}</section>`,
)}
</body>
</html>`;
}
