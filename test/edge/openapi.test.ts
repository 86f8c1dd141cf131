// The edge's OpenAPI document is generated from its routes: it is a valid OpenAPI 3.1 document, it
// has every route the app registers (and no other), and every 200 it describes has a schema.

import { Validator } from '@seriousme/openapi-schema-validator';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';

type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

// Pages for people and the document itself: served by the app, not part of the API it describes.
const pages = new Set(['/', '/docs', '/openapi.json']);
const isPage = (path: string) => pages.has(path) || path.startsWith('/playground/');

let edge: RunningWorker;
let document: Document;
let routes: { method: string; path: string }[];
beforeAll(async () => {
  edge = await startEdgeWorker();
  document = (await (await edge.fetch('/openapi.json')).json()) as Document;
});
// A second Worker, started on its own (each start has the hook's whole time budget).
beforeAll(async () => {
  const harness = await startEdgeWorker({ entrypoint: join(repoRoot, 'test/support/route-list-worker.ts') });
  try {
    routes = (await (await harness.fetch('/')).json()) as typeof routes;
  } finally {
    await harness.stop();
  }
});
afterAll(() => edge?.stop());

/** The app's routes as `METHOD /openapi/{path}`: every method but the catch-alls of middleware. */
function registeredOperations(): Set<string> {
  return new Set(
    routes
      .filter(({ method, path }) => method !== 'ALL' && !isPage(path))
      .map(({ method, path }) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`),
  );
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route the app registers, and no route it does not', () => {
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const registered = registeredOperations();
    expect(registered.size).toBeGreaterThan(10);
    expect([...registered].filter((operation) => !documented.has(operation))).toEqual([]);
    expect([...documented].filter((operation) => !registered.has(operation))).toEqual([]);
  });

  it('gives every 200 a schema', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const ok = operation.responses['200'];
        expect(ok, `${method} ${path}`).toBeDefined();
        const media = Object.values(ok!.content ?? {});
        expect(media.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const { schema } of media) expect(schema, `${method} ${path}`).toBeDefined();
      }
    }
  });

  it('names the schemas the routes validate with, and the usage answer has its own', async () => {
    const schemas = (document as unknown as { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } })
      .components.schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['InferRequest', 'InferResponse', 'VadRequest', 'OcrResponse', 'UsageResponse']),
    );
    expect(Object.keys(schemas.UsageResponse!.properties!)).toEqual(expect.arrayContaining(['keyId', 'days', 'total']));
  });
});
