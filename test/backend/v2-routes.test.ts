import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, InferResponse, ModelMetadata, ServerMetadata } from '../../protocol/schemas.ts';
import { servedManifest, servedVersions } from '../support/serving.ts';
import { metricsAuthorization, type StartedBackend, startTestBackend } from '../support/backend.ts';
import { tensor, textLinePattern } from '../support/infer.ts';

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend();
});
afterAll(() => server?.stop());

const recInput = (width = 32, rows = 1) => {
  const row = textLinePattern(width);
  const data = new Float32Array(row.length * rows);
  for (let r = 0; r < rows; r++) data.set(row, r * row.length);
  return { inputs: [tensor('x', 'FP32', [rows, 3, 48, width], data)] };
};

async function expectError(res: Response, status: number, message?: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = ErrorResponse.parse(await res.json());
  if (message) expect(body.error).toMatch(message);
}

describe('health and metadata routes', () => {
  it('answers server metadata naming the gpu-backend', async () => {
    const res = await server.fetch('/v2');
    expect(res.status).toBe(200);
    expect(ServerMetadata.parse(await res.json()).name).toBe('edgeinfer-gpu-backend');
  });

  it('is live and, once its models are warm, ready', async () => {
    expect(await (await server.fetch('/v2/health/live')).json()).toEqual({ live: true });
    expect(await (await server.fetch('/v2/health/ready')).json()).toEqual({ ready: true });
  });

  it('lists the models of tier gpu or auto, and those its task pipelines run (silero-vad for /v1/vad)', async () => {
    const { models } = (await (await server.fetch('/v2/models')).json()) as { models: ModelMetadata[] };
    expect(models.map((m) => m.name).sort()).toEqual(['paddleocr-cls', 'paddleocr-det', 'paddleocr-rec', 'silero-vad']);
  });

  it('answers model metadata from the manifest, with and without a version, listing every version that passed its gate', async () => {
    const servable = (await servedManifest('paddleocr-rec')).versions
      .filter((v) => !v.quantization || v.evaluation?.passed)
      .map((v) => v.version);
    expect(servable).toContain('4');
    for (const path of ['/v2/models/paddleocr-rec', '/v2/models/paddleocr-rec/versions/4']) {
      const meta = ModelMetadata.parse(await (await server.fetch(path)).json());
      expect(meta).toMatchObject({ name: 'paddleocr-rec', versions: servable, inputs: [{ name: 'x', shape: [-1, 3, 48, -1] }] });
    }
  });

  it('reports a loaded model ready, at the version it serves by default or the one named', async () => {
    const res = await server.fetch('/v2/models/paddleocr-det/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'paddleocr-det',
      version: (await servedVersions('gpu', ['paddleocr-det']))['paddleocr-det'],
      ready: true,
    });
    expect(await (await server.fetch('/v2/models/paddleocr-det/versions/4/ready')).json()).toEqual({
      name: 'paddleocr-det',
      version: '4',
      ready: true,
    });
  });

  it('answers 404 for a model it does not serve', async () => {
    await expectError(await server.fetch('/v2/models/nope'), 404, /not served here/);
  });

  it('answers 404 for an unknown version and an unknown route', async () => {
    await expectError(await server.fetch('/v2/models/paddleocr-rec/versions/9'), 404, /no version '9'/);
    await expectError(await server.fetch('/v3'), 404, /no route/);
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const res = await server.signedRaw('/v2/health/ready', '');
    await expectError(res, 405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    const infer = await server.fetch('/v2/models/paddleocr-rec/infer');
    await expectError(infer, 405);
    expect(infer.headers.get('allow')).toBe('POST');
  });
});

describe('POST /v2/models/{name}/infer', () => {
  it('runs the model and answers the v2 response with the gpu tier header', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-rec/infer', { id: 'req-1', ...recInput() });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    const body = InferResponse.parse(await res.json());
    expect(body).toMatchObject({
      model_name: 'paddleocr-rec',
      model_version: (await servedVersions('gpu', ['paddleocr-rec']))['paddleocr-rec'],
      id: 'req-1',
    });
    expect(body.outputs[0]).toMatchObject({ name: 'softmax_11.tmp_0', datatype: 'FP32', shape: [1, 4, 6625] });
    // Each time step is a probability distribution over the dictionary.
    const firstStep = body.outputs[0]!.data.slice(0, 6625) as number[];
    expect(firstStep.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  });

  it('runs a versioned path and a batch of rows', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-det/versions/4/infer', {
      inputs: [tensor('x', 'FP32', [2, 3, 32, 64], new Float32Array(2 * 3 * 32 * 64).fill(0.5))],
    });
    expect(res.status).toBe(200);
    expect(InferResponse.parse(await res.json()).outputs[0]!.shape).toEqual([2, 1, 32, 64]);
  });

  it('rejects a body that is not JSON with 400', async () => {
    await expectError(await server.signedRaw('/v2/models/paddleocr-rec/infer', '{'), 400, /not valid JSON/);
  });

  it('rejects JSON that is not an infer request with 400 naming the problem', async () => {
    await expectError(await server.signedPost('/v2/models/paddleocr-rec/infer', { inputs: 'x' }), 400, /inputs/);
  });

  it('rejects a request whose data does not match its shape with 400', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-rec/infer', { inputs: [tensor('x', 'FP32', [1, 3, 48, 8], [1, 2, 3])] });
    await expectError(res, 400, /needs 1152/);
  });

  it('rejects a fixed dimension of the wrong size with 400', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-rec/infer', {
      inputs: [tensor('x', 'FP32', [1, 3, 32, 8], new Float32Array(768))],
    });
    await expectError(res, 400, /expects 48/);
  });

  it('rejects an input the model cannot run on (a detector side that is no multiple of 32) with 400, and keeps serving', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-det/infer', {
      inputs: [tensor('x', 'FP32', [1, 3, 33, 33], new Float32Array(3 * 33 * 33))],
    });
    await expectError(res, 400, /cannot run on this input/);
    expect((await server.signedPost('/v2/models/paddleocr-rec/infer', recInput())).status).toBe(200);
  });

  it('rejects a batch larger than the manifest allows with 413', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-det/infer', {
      inputs: [tensor('x', 'FP32', [9, 3, 1, 1], new Float32Array(27))],
    });
    await expectError(res, 413, /at most 8/);
  });

  it('rejects a wrong content type with 415', async () => {
    await expectError(await server.signedRaw('/v2/models/paddleocr-rec/infer', 'x', 'text/plain'), 415, /application\/json/);
  });

  it('rejects an unknown output name with 400', async () => {
    const res = await server.signedPost('/v2/models/paddleocr-rec/infer', { ...recInput(), outputs: [{ name: 'logits' }] });
    await expectError(res, 400, /no output 'logits'/);
  });

  it('answers 404 for inference on an unknown model', async () => {
    await expectError(await server.signedPost('/v2/models/nope/infer', recInput()), 404);
  });
});

describe('GET /metrics', () => {
  it('exposes request counts, latency, batch size, queue depth and queue wait in Prometheus text', async () => {
    await server.signedPost('/v2/models/paddleocr-rec/infer', recInput());
    const res = await server.fetch('/metrics', { headers: metricsAuthorization });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/edgeinfer_backend_requests_total\{model="paddleocr-rec",status="200"\} \d+/);
    expect(text).toMatch(/edgeinfer_backend_requests_total\{model="paddleocr-rec",status="400"\} \d+/);
    expect(text).toMatch(/edgeinfer_backend_requests_total\{model="unknown",status="404"\} \d+/);
    for (const name of ['request_duration_seconds_bucket', 'batch_size_bucket', 'queue_depth', 'queue_wait_seconds_bucket']) {
      expect(text).toContain(`edgeinfer_backend_${name}`);
    }
  });
});
