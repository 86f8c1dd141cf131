// One method-not-allowed rule for the whole backend: every path the app registers answers a method it
// does not take with 405, an `Allow` listing the ones it does, and the protocol's error body. The paths
// are read from the app itself, so a route added later is covered without touching this test.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../gpu-backend/app.ts';
import { ErrorResponse } from '../../protocol/schemas.ts';
import { signRequest } from '../../protocol/signature.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend();
});
afterAll(() => server?.stop());

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Signed as the edge signs (every method but GET and HEAD is refused unsigned before routing). */
async function send(method: string, path: string): Promise<Response> {
  const headers = method === 'GET' ? {} : await signRequest(testSigningSecret, method, path, new Uint8Array(), Date.now());
  return server.fetch(path, { method, headers });
}

/** Every concrete path the app routes, with the methods registered on it. */
function routeFamilies(): Map<string, Set<string>> {
  const model = [...server.backend.deps.registry.models][0]!;
  const families = new Map<string, Set<string>>();
  for (const route of createApp(server.backend.deps).routes) {
    if (route.method === 'ALL') continue;
    const path = route.path.replace(':name', model.manifest.name).replace(':version', model.version.version);
    families.set(path, (families.get(path) ?? new Set()).add(route.method));
  }
  return families;
}

describe('405 on the backend', () => {
  it('has the route families it serves', () => {
    const paths = [...routeFamilies().keys()];
    for (const family of ['/v2', '/v2/health/ready', '/v2/models', '/v1/vad', '/v1/ocr', '/metrics', '/health', '/predict'])
      expect(paths).toContain(family);
    expect(paths.some((path) => path.endsWith(`/versions/${[...server.backend.deps.registry.models][0]!.version.version}/infer`))).toBe(
      true,
    );
  });

  it('answers every route family a method it does not take with 405 and Allow', async () => {
    for (const [path, allowed] of routeFamilies()) {
      const wrong = methods.find((method) => !allowed.has(method))!;
      const res = await send(wrong, path);
      expect(res.status, `${wrong} ${path}`).toBe(405);
      const expected = [...allowed, ...(allowed.has('GET') ? ['HEAD'] : [])].sort();
      expect(res.headers.get('allow')?.split(', ').sort(), `${wrong} ${path}`).toEqual(expected);
      expect(ErrorResponse.parse(await res.json()).error).toMatch(new RegExp(`${wrong} is not allowed here`));
    }
  });

  it('still answers 404 for a path no method takes', async () => {
    const res = await send('POST', '/v3/models');
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
  });
});
