// The edge's circuit breakers against the real backend: a model the backend cannot serve (its weights
// fail sha256 there, so it answers 503 in its own JSON) opens only that model's breaker, the other
// models keep being forwarded, and the public ready route answers from the breakers without calling
// the backend; a backend that goes away opens the breaker for every model.

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { findVersion } from '../../models/manifest.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, repoRoot, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

// Every request must reach the backend (or its breaker): a cached answer would hide both.
const noStore = { 'cache-control': 'no-store' };

let modelsDir: string;
let backend: StartedBackend;
let edge: RunningWorker;
let proxy: Server;
/** Paths the edge sent to the backend, in order (seen by a pass-through proxy in front of it). */
const backendCalls: string[] = [];

/** Passes every request on to the backend unchanged; when the backend is gone, resets the connection. */
function startProxy(target: URL): Promise<Server> {
  const server = createServer((req, res) => {
    backendCalls.push(`${req.method} ${req.url}`);
    const upstream = httpRequest(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'edgeinfer-breaker-'));
  await cp(join(repoRoot, 'models'), modelsDir, { recursive: true });
  const det = (await loadModelFolders(modelsDir)).find((f) => f.manifest.name === 'paddleocr-det')!;
  const weights = join(det.dir, findVersion(det.manifest, undefined, 'gpu')!.file);
  const bytes = await readFile(weights);
  bytes[bytes.length >> 1]! ^= 0x01;
  await writeFile(weights, bytes);
  backend = await startTestBackend({ MODELS_DIR: modelsDir });
  proxy = await startProxy(backend.url);
  edge = await startEdgeWorker({
    vars: {
      BACKEND_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      EDGE_SIGNING_SECRET: testSigningSecret,
      BACKEND_FAILURE_THRESHOLD: '2',
      // Longer than the test: once open, a breaker stays open, so nothing depends on the clock.
      BACKEND_COOL_DOWN_MS: '600000',
    },
  });
});
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
  await new Promise((resolve) => proxy?.close(resolve));
  if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
});

const detInput = { inputs: [tensor('x', 'FP32', [1, 3, 32, 32], new Float32Array(3 * 32 * 32))] };
const recInput = { inputs: [tensor('x', 'FP32', [1, 3, 48, 32], new Float32Array(3 * 48 * 32).fill(0.5))] };
const error = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('a circuit breaker per model, against the real backend', () => {
  it("opens only the broken model's breaker; the healthy gpu models keep being forwarded", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await edge.fetch('/v2/models/paddleocr-det/infer', postJson(detInput, noStore));
      expect(res.status).toBe(503);
      expect(await error(res)).toMatch(/paddleocr-det/);
    }
    const callsBefore = backendCalls.length;
    const refused = await edge.fetch('/v2/models/paddleocr-det/infer', postJson(detInput, noStore));
    expect(refused.status).toBe(503);
    expect(await error(refused)).toMatch(/model 'paddleocr-det' is unavailable on the GPU backend \(circuit open/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(backendCalls.length).toBe(callsBefore);

    for (let i = 0; i < 3; i++) {
      const res = await edge.fetch('/v2/models/paddleocr-rec/infer', postJson(recInput, noStore));
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    }
  });

  it('answers the public ready route of a backend model from the breakers, never calling the backend', async () => {
    const callsBefore = backendCalls.length;
    const det = await edge.fetchWithoutCredentials('/v2/models/paddleocr-det/ready');
    expect(det.status).toBe(503);
    expect(await error(det)).toMatch(/paddleocr-det.*circuit open/);
    const rec = await edge.fetchWithoutCredentials('/v2/models/paddleocr-rec/ready');
    expect(rec.status).toBe(200);
    expect(await rec.json()).toMatchObject({ name: 'paddleocr-rec', ready: true });
    expect(backendCalls.length).toBe(callsBefore);
  });

  it('opens the breaker for every model once the backend itself cannot be reached', async () => {
    await backend.stop();
    for (let i = 0; i < 2; i++) {
      const res = await edge.fetch('/v2/models/paddleocr-rec/infer', postJson(recInput, noStore));
      expect(res.status).toBe(503);
    }
    for (const model of ['paddleocr-rec', 'paddleocr-det']) {
      const callsBefore = backendCalls.length;
      const res = await edge.fetch(`/v2/models/${model}/infer`, postJson(model === 'paddleocr-det' ? detInput : recInput, noStore));
      expect(res.status).toBe(503);
      expect(await error(res)).toMatch(/circuit open/);
      expect(backendCalls.length).toBe(callsBefore);
      expect((await edge.fetchWithoutCredentials(`/v2/models/${model}/ready`)).status).toBe(503);
    }
    // A model the edge runs itself is not the backend's to close.
    expect((await edge.fetchWithoutCredentials('/v2/models/silero-vad/ready')).status).toBe(200);
  });
});
