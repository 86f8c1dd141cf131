import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, InferResponse } from '../../protocol/schemas.ts';
import { type StartedBackend, startTestBackend } from '../support/backend.ts';
import { tensor, textLinePattern } from '../support/infer.ts';

// Vertex AI sets routes like these for a custom container; the colon must not be read as a parameter.
const predictRoute = '/v1/endpoints/123/deployedModels/456:predict';
const healthRoute = '/v1/endpoints/123/deployedModels/456';

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend({
    AIP_HTTP_PORT: '0',
    PORT: '1',
    AIP_PREDICT_ROUTE: predictRoute,
    AIP_HEALTH_ROUTE: healthRoute,
    VERTEX_MODEL: 'paddleocr-rec',
  });
});
afterAll(() => server?.stop());

/** One 3×48×W line crop as nested arrays: channels, rows, columns. */
function nestedLine(width: number, shift: number): number[][][] {
  const flat = textLinePattern(width);
  return [0, 1, 2].map((c) =>
    Array.from({ length: 48 }, (_, y) =>
      Array.from({ length: width }, (_, x) => flat[c * 48 * width + y * width + ((x + shift) % width)]!),
    ),
  );
}

describe('Vertex AI custom-container contract', () => {
  it('answers the health route once ready', async () => {
    const res = await server.fetch(healthRoute);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true });
  });

  it('listens on AIP_HTTP_PORT in preference to PORT', () => {
    expect(server.url.port).not.toBe('1');
  });

  it('answers one prediction per instance, keyed by output name, equal to the v2 result for that row', async () => {
    const instances = [{ x: nestedLine(32, 0) }, { x: nestedLine(32, 5) }];
    const res = await server.signedPost(predictRoute, { instances });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    const { predictions } = (await res.json()) as { predictions: Record<string, number[][]>[] };
    expect(predictions).toHaveLength(2);
    for (const [i, instance] of instances.entries()) {
      const steps = predictions[i]!['softmax_11.tmp_0']!;
      expect(steps).toHaveLength(4);
      expect(steps[0]).toHaveLength(6625);
      const v2 = await server.signedPost('/v2/models/paddleocr-rec/infer', {
        inputs: [tensor('x', 'FP32', [1, 3, 48, 32], instance.x.flat(2))],
      });
      expect(steps.flat()).toEqual(InferResponse.parse(await v2.json()).outputs[0]!.data);
    }
  });

  it('takes a bare row as the instance of a single-input model', async () => {
    const res = await server.signedPost(predictRoute, { instances: [nestedLine(32, 1)] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: unknown[] }).predictions).toHaveLength(1);
  });

  it('lets parameters.model pick another served model', async () => {
    const image = [0, 1, 2].map(() => Array.from({ length: 32 }, () => new Array(32).fill(0.25)));
    const res = await server.signedPost(predictRoute, { instances: [{ x: image }], parameters: { model: 'paddleocr-det' } });
    expect(res.status).toBe(200);
    const { predictions } = (await res.json()) as { predictions: Record<string, number[][][]>[] };
    expect(predictions[0]!['sigmoid_0.tmp_0']).toHaveLength(1);
    expect(predictions[0]!['sigmoid_0.tmp_0']![0]).toHaveLength(32);
  });

  it('rejects malformed requests with 4xx JSON naming the problem', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ predictions: [] }, 400, /instances/],
      [{ instances: [] }, 400, /instances/],
      [{ instances: [{ y: nestedLine(32, 0) }] }, 400, /lacks input 'x'/],
      [{ instances: [{ x: [[1, 2]] }] }, 400, /instances\.0: input 'x'/],
      [{ instances: [{ x: nestedLine(32, 0) }, { x: nestedLine(16, 0) }] }, 400, /different shapes/],
      [{ instances: [42] }, 400, /object keyed by input name/],
      [{ instances: Array.from({ length: 65 }, () => ({ x: [[[0]]] })) }, 413, /at most 64/],
      [{ instances: [{ x: nestedLine(32, 0) }], parameters: { model: 'nope' } }, 404, /not served/],
    ];
    for (const [body, status, message] of cases) {
      const res = await server.signedPost(predictRoute, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(ErrorResponse.parse(await res.json()).error).toMatch(message);
    }
  });

  it('requires the edge signature on the predict route but not on the health route', async () => {
    const res = await server.fetch(predictRoute, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"instances":[]}',
    });
    expect(res.status).toBe(401);
    expect((await server.fetch(healthRoute)).status).toBe(200);
  });
});
