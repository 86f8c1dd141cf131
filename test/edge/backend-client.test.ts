// The edge's client for the GPU backend, against the real backend over HTTP: one signed hop with
// binary tensors, answers passed on, failures retried once and counted by the circuit breaker.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendClient, type BackendClientOptions } from '../../edge/backend/client.ts';
import { BackendBreakers } from '../../edge/backend/circuit-breaker.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import type { Manifest } from '../../models/manifest.ts';
import { auditLog } from '../../protocol/audit.ts';
import { BackendUnavailable, BadGateway, HttpError } from '../../protocol/errors.ts';
import type { Tensor } from '../../protocol/tensor-codec.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { repoRoot } from '../support/edge-worker.ts';

let backend: StartedBackend;
let rec: Manifest;

beforeAll(async () => {
  backend = await startTestBackend();
  rec = (await loadModelFolders(`${repoRoot}/models`)).find((f) => f.manifest.name === 'paddleocr-rec')!.manifest;
});
afterAll(() => backend?.stop());

const line: Tensor = {
  name: 'x',
  datatype: 'FP32',
  shape: [1, 3, 48, 64],
  data: Float32Array.from({ length: 3 * 48 * 64 }, (_, i) => Math.sin(i / 9)),
};

function client(overrides: Partial<BackendClientOptions> & { calls?: string[] } = {}) {
  const calls = overrides.calls ?? [];
  const breakers = overrides.breakers ?? new BackendBreakers({ failureThreshold: 3, coolDownMs: 60_000, now: () => Date.now() });
  return {
    breakers,
    calls,
    client: new BackendClient({
      baseUrl: backend.url.origin,
      signingSecret: testSigningSecret,
      defaultTimeoutMs: 10_000,
      retryJitterMs: { min: 1, max: 5 },
      breakers,
      ...overrides,
      // Counts the calls that leave; the requests themselves are real.
      fetch: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    }),
  };
}

const request = (manifest: Manifest, inputs: Tensor[] = [line]) => ({
  manifest,
  version: '4',
  inputs,
  outputNames: ['softmax_11.tmp_0'],
  id: 'fwd-1',
  requestId: 'req-1',
});

describe('backend client', () => {
  it('forwards a signed binary request and returns the backend outputs', async () => {
    const { client: c } = client();
    const result = await c.infer(request(rec));
    expect(result.modelVersion).toBe('4');
    expect(result.outputs[0]!.shape).toEqual([1, 8, 6625]);

    const direct = await backend.signedPost('/v2/models/paddleocr-rec/versions/4/infer', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: line.shape, data: Array.from(line.data as Float32Array) }],
    });
    const expected = ((await direct.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    expect(Array.from(result.outputs[0]!.data as Float32Array)).toEqual(expected);
  });

  it('passes on the backend judgement of a bad request without counting it as a failure', async () => {
    const { client: c, breakers } = client();
    const notMultipleOf32 = { ...line, shape: [1, 3, 48, 0], data: new Float32Array(0) };
    const failure = c.infer(request(rec, [notMultipleOf32]));
    await expect(failure).rejects.toBeInstanceOf(HttpError);
    await expect(failure).rejects.toMatchObject({ status: 400 });
    expect(breakers.state('paddleocr-rec')).toBe('closed');
  });

  it('reports a signing secret the backend refuses as a bad gateway, not as the caller’s fault', async () => {
    const lines: string[] = [];
    const audit = auditLog((line) => lines.push(line));
    const { client: c } = client({
      signingSecret: 'another-secret-that-is-at-least-32-chars',
      onSignatureRefused: (path, requestId) => audit({ event: 'signature-refused', by: 'backend', path, requestId }),
    });
    const refused = c.infer(request(rec));
    await expect(refused).rejects.toBeInstanceOf(BadGateway);
    await expect(refused).rejects.toThrow(/unknown key id .*EDGE_SIGNING_SECRET is the same on both tiers/);
    // One audit line, naming the path and request, never the secret.
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        audit: true,
        event: 'signature-refused',
        path: expect.stringContaining('/v2/models/paddleocr-rec/'),
        requestId: 'req-1',
      }),
    ]);
    expect(lines.join('\n')).not.toContain('another-secret');
  });

  it('retries once on a refused connection, then answers 503 and counts one failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const calls: string[] = [];
    const breakers = new BackendBreakers({ failureThreshold: 2, coolDownMs: 60_000, now: () => Date.now() });
    const { client: c } = client({ baseUrl: `http://127.0.0.1:${port}`, calls, breakers });
    const failure = c.infer(request(rec));
    await expect(failure).rejects.toBeInstanceOf(BackendUnavailable);
    await expect(failure).rejects.toMatchObject({ headers: { 'Retry-After': expect.any(String) } });
    expect(calls).toHaveLength(2);
    expect(breakers.state('paddleocr-rec')).toBe('closed');

    await expect(c.infer(request(rec))).rejects.toBeInstanceOf(BackendUnavailable);
    // A backend that cannot be reached opens the backend's breaker: every model is refused.
    expect(breakers.state('paddleocr-rec')).toBe('open');
    expect(breakers.state('paddleocr-det')).toBe('open');
    // Open: refused at once, nothing sent.
    await expect(c.infer(request(rec))).rejects.toThrow(/GPU backend is unavailable \(circuit open/);
    expect(calls).toHaveLength(4);
  });

  it('retries a 503 once and succeeds when the second answer is good', async () => {
    let answered = 0;
    const flaky = createServer((req, res) => {
      answered++;
      if (answered === 1) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const upstream = await fetch(new URL(req.url!, backend.url), {
          method: 'POST',
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        });
        res.writeHead(upstream.status, Object.fromEntries(upstream.headers)).end(Buffer.from(await upstream.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const { client: c, calls, breakers } = client({ baseUrl: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}` });
      const result = await c.infer(request(rec));
      expect(result.outputs[0]!.shape).toEqual([1, 8, 6625]);
      expect(calls).toHaveLength(2);
      expect(breakers.state('paddleocr-rec')).toBe('closed');
    } finally {
      await new Promise((resolve) => flaky.close(resolve));
    }
  });

  it('signs each attempt anew, so a retry after a 503 is not refused by the backend as a replay', async () => {
    // Forwards every attempt to the backend, but answers the first one 503 whatever the backend said.
    let attempts = 0;
    const nonces: string[] = [];
    const forwarding = createServer((req, res) => {
      const first = ++attempts === 1;
      nonces.push(String(req.headers['x-edgeinfer-nonce']));
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const upstream = await fetch(new URL(req.url!, backend.url), {
          method: 'POST',
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        });
        const answer = Buffer.from(await upstream.arrayBuffer());
        if (first) res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"lost on the way back"}');
        else res.writeHead(upstream.status, Object.fromEntries(upstream.headers)).end(answer);
      });
    });
    await new Promise<void>((resolve) => forwarding.listen(0, '127.0.0.1', resolve));
    try {
      const { client: c } = client({ baseUrl: `http://127.0.0.1:${(forwarding.address() as AddressInfo).port}` });
      expect((await c.infer(request(rec))).outputs[0]!.shape).toEqual([1, 8, 6625]);
      expect(attempts).toBe(2);
      expect(new Set(nonces).size).toBe(2);
    } finally {
      await new Promise((resolve) => forwarding.close(resolve));
    }
  });

  it('gives up after the model timeout without retrying, and a later answer closes the half-open breaker', async () => {
    let now = 0;
    const breakers = new BackendBreakers({ failureThreshold: 1, coolDownMs: 1_000, now: () => now });
    const silent = createServer(() => {}); // accepts and never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { client: slow, calls } = client({
        baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        breakers,
        defaultTimeoutMs: 200,
      });
      // The client's default timeout applies to a manifest that names none.
      await expect(slow.infer(request({ ...rec, routing: undefined }))).rejects.toThrow(/timed out after 200 ms/);
      expect(calls).toHaveLength(1);
      // A timeout counts against the model that did not answer, not against the others.
      expect(breakers.state('paddleocr-rec')).toBe('open');
      expect(breakers.state('paddleocr-det')).toBe('closed');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
    now += 1_000;
    const { client: recovered } = client({ breakers });
    await recovered.infer(request(rec));
    expect(breakers.state('paddleocr-rec')).toBe('closed');
  });
});
