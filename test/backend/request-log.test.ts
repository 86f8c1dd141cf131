// The backend logs JSON lines with a severity: one per request with method, path, status, latency,
// model, request id and Cloud Logging's trace from the edge's traceparent; it echoes x-request-id.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedBackend, spawnBackend, type StartedBackend, startTestBackend } from '../support/backend.ts';
import { postJson, tensor, textLinePattern } from '../support/infer.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;

describe('backend request log', () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await startTestBackend({ EDGE_SIGNATURE_REQUIRED: 'false', GOOGLE_CLOUD_PROJECT: 'demo-project' });
  });
  afterAll(() => server?.stop());

  const requestLines = () =>
    server.logs
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.event === 'request');

  it('writes one JSON line per request with the fields Cloud Logging groups by, and echoes x-request-id', async () => {
    const row = textLinePattern(32);
    const res = await server.fetch(
      '/v2/models/paddleocr-rec/infer',
      postJson({ inputs: [tensor('x', 'FP32', [1, 3, 48, 32], row)] }, { 'x-request-id': 'edge-req-42', traceparent }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('edge-req-42');
    // The tier is gpu; what it ran on here, without a GPU, is the CPU provider, and the answer says so.
    expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    expect(res.headers.get('x-edgeinfer-provider')).toBe('cpu');
    const entry = requestLines().find((line) => line.requestId === 'edge-req-42');
    expect(entry).toMatchObject({
      severity: 'INFO',
      message: 'POST /v2/models/paddleocr-rec/infer 200',
      method: 'POST',
      path: '/v2/models/paddleocr-rec/infer',
      status: 200,
      model: 'paddleocr-rec',
      latencyMs: expect.any(Number),
      'logging.googleapis.com/trace': `projects/demo-project/traces/${traceId}`,
      'logging.googleapis.com/spanId': '00f067aa0ba902b7',
      'logging.googleapis.com/trace_sampled': true,
    });
  });

  it('makes up a request id when none is sent, and logs a refused request as a WARNING with its status', async () => {
    const res = await server.fetch('/v2/models/whisper');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLines().find((line) => line.requestId === id)).toMatchObject({ severity: 'WARNING', status: 404, model: 'whisper' });
    expect(requestLines().find((line) => line.requestId === id)).not.toHaveProperty(['logging.googleapis.com/trace']);
  });
});

describe('backend process output', () => {
  let spawned: SpawnedBackend;
  beforeAll(async () => {
    spawned = await spawnBackend({ EDGE_SIGNATURE_REQUIRED: 'false' });
  });
  afterAll(async () => {
    spawned?.child.kill('SIGTERM');
    await spawned?.exited;
  });

  it('writes every line as JSON with a severity and a message', async () => {
    await fetch(new URL('/v2/health/ready', spawned.url));
    await fetch(new URL('/v2/models', spawned.url), { method: 'DELETE' });
    // The request lines are written after the answer: wait for both to be on stdout.
    while (spawned.output.filter((line) => line.includes('"event":"request"')).length < 2) {
      await new Promise((resolve) => spawned.child.stdout!.once('data', resolve));
    }
    for (const line of spawned.output) {
      const entry = JSON.parse(line) as { severity?: string; message?: string };
      expect(['DEBUG', 'INFO', 'WARNING', 'ERROR'], line).toContain(entry.severity);
      expect(typeof entry.message, line).toBe('string');
    }
    expect(spawned.output.some((line) => /"severity":"WARNING".*EDGE_SIGNATURE_REQUIRED=false/.test(line))).toBe(true);
    expect(spawned.output.some((line) => /"status":405/.test(line))).toBe(true);
  });
});
