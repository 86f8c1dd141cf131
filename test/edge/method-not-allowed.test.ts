// One method-not-allowed rule for the whole edge: every route family answers a method it does not take
// with 405, an `Allow` listing the ones it does, and the protocol's error body, before any credential
// is asked for. The API's paths are read from the edge's own /openapi.json (generated from its routes),
// the pages beside it listed here.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse } from '../../protocol/schemas.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const pages = ['/', '/docs', '/openapi.json', '/playground/playground.js'];

/** Every API path of the OpenAPI document with a concrete model and version, and its methods. */
async function apiFamilies(): Promise<Map<string, Set<string>>> {
  const document = (await (await edge.fetch('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  const families = new Map<string, Set<string>>();
  for (const [path, operations] of Object.entries(document.paths)) {
    const concrete = path.replace('{name}', 'silero-vad').replace('{version}', '1');
    families.set(concrete, new Set(Object.keys(operations).map((method) => method.toUpperCase())));
  }
  return families;
}

describe('405 at the edge', () => {
  it('covers every route family: v2, models, versions, tasks, usage, docs and the playground', async () => {
    const paths = [...(await apiFamilies()).keys()];
    for (const family of [
      '/v2',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models',
      '/v2/models/silero-vad',
      '/v2/models/silero-vad/ready',
      '/v2/models/silero-vad/infer',
      '/v2/models/silero-vad/versions/1/infer',
      '/v1/vad',
      '/v1/ocr',
      '/v1/usage',
    ])
      expect(paths).toContain(family);
  });

  it('answers every route family a method it does not take with 405 and Allow, without asking for a credential', async () => {
    const families = await apiFamilies();
    for (const page of pages) families.set(page, new Set(['GET']));
    for (const [path, allowed] of families) {
      const wrong = methods.find((method) => !allowed.has(method))!;
      const res = await edge.fetchWithoutCredentials(path, { method: wrong });
      expect(res.status, `${wrong} ${path}`).toBe(405);
      const expected = [...allowed, ...(allowed.has('GET') ? ['HEAD'] : [])].sort();
      expect(res.headers.get('allow')?.split(', ').sort(), `${wrong} ${path}`).toEqual(expected);
      expect(res.headers.get('x-request-id'), `${wrong} ${path}`).toBeTruthy();
      expect(ErrorResponse.parse(await res.json()).error).toMatch(new RegExp(`${wrong} is not allowed here`));
    }
  });

  it('still answers 404 for a path no method takes', async () => {
    const res = await edge.fetch('/v3/models', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
  });
});
