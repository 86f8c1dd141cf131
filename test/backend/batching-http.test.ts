import { loadModelFolders } from '../../models/catalog-fs.ts';
import { findVersion } from '../../models/manifest.ts';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferResponse } from '../../protocol/schemas.ts';
import { metricsAuthorization, type StartedBackend, startTestBackend } from '../support/backend.ts';
import { repoRoot } from '../support/edge-worker.ts';
import { tensor } from '../support/infer.ts';

// The float32 version: its answers do not depend on the batch they ran in (float16 kernels may round a
// row differently with other rows beside it), so "exactly" can be asserted.
const recPath = '/v2/models/paddleocr-rec/versions/4/infer';

let server: StartedBackend;
let reference: ort.InferenceSession;
beforeAll(async () => {
  server = await startTestBackend({ MAX_QUEUE_DELAY_MS: '5' });
  const rec = (await loadModelFolders(`${repoRoot}/models`)).find((f) => f.manifest.name === 'paddleocr-rec')!;
  reference = await ort.InferenceSession.create(await readFile(`${rec.dir}/${findVersion(rec.manifest, '4')!.file}`), {
    executionProviders: ['cpu'],
  });
});
afterAll(async () => {
  await server?.stop();
  await reference?.release();
});

function lineCrops(rows: number, width: number, seed: number): Float32Array {
  return Float32Array.from({ length: rows * 3 * 48 * width }, (_, i) => Math.fround(Math.sin(seed * 131 + i * 0.37)));
}

async function histogramSumAndCount(name: string, model: string): Promise<{ sum: number; count: number }> {
  const text = await (await server.fetch('/metrics', { headers: metricsAuthorization })).text();
  const read = (suffix: string) => Number(new RegExp(`${name}_${suffix}\\{model="${model}"\\} (\\S+)`).exec(text)?.[1] ?? 0);
  return { sum: read('sum'), count: read('count') };
}

describe('dynamic batching over HTTP', () => {
  it('answers every concurrent caller exactly what the model computes for its request alone', async () => {
    const request$ = fc.record({
      rows: fc.integer({ min: 1, max: 3 }),
      width: fc.constantFrom(16, 24),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request$, { minLength: 2, maxLength: 12 }), async (requests) => {
        const responses = await Promise.all(
          requests.map(({ rows, width, seed }) =>
            server.signedPost(recPath, { inputs: [tensor('x', 'FP32', [rows, 3, 48, width], lineCrops(rows, width, seed))] }),
          ),
        );
        for (const [i, { rows, width, seed }] of requests.entries()) {
          expect(responses[i]!.status).toBe(200);
          const output = InferResponse.parse(await responses[i]!.json()).outputs[0]!;
          const alone = (await reference.run({ x: new ort.Tensor('float32', lineCrops(rows, width, seed), [rows, 3, 48, width]) }))[
            'softmax_11.tmp_0'
          ]!;
          expect(output.shape).toEqual([...alone.dims]);
          expect(output.data).toEqual(Array.from(alone.data as Float32Array));
        }
      }),
      { numRuns: 6 },
    );
    // Some of those runs joined requests: more rows than runs.
    const batches = await histogramSumAndCount('edgeinfer_backend_batch_size', 'paddleocr-rec');
    const requests = await (await server.fetch('/metrics', { headers: metricsAuthorization })).text();
    expect(batches.count).toBeGreaterThan(0);
    expect(requests).toMatch(/edgeinfer_backend_queue_wait_seconds_count\{model="paddleocr-rec"\} [1-9]/);
    const rowsPerRun = batches.sum / batches.count;
    expect(rowsPerRun).toBeGreaterThan(2);
  });
});

// One onnxruntime thread makes a 640×640 detector run (a few hundred ms here) outlast the JSON work of
// the next request, so requests pile up in the queue as they would under real load. The body is
// serialised once and the responses are not parsed, to keep the test's own work off the event loop.
const detBody = JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 640, 640], new Float32Array(3 * 640 * 640).fill(0.5))] });

describe('bounded queue', () => {
  it('answers 503 with Retry-After past the queue bound, and every caller gets an answer', async () => {
    const tight = await startTestBackend({ MAX_QUEUE_SIZE: '1', BATCHING: 'false', INTRA_OP_THREADS: '1' });
    try {
      const responses = await Promise.all(Array.from({ length: 6 }, () => tight.signedRaw('/v2/models/paddleocr-det/infer', detBody)));
      const statuses = responses.map((r) => r.status);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      const refused = responses.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const res of refused) {
        expect(res.headers.get('retry-after')).toBe('1');
        expect(((await res.json()) as { error: string }).error).toMatch(/requests waiting/);
      }
      await Promise.all(responses.filter((r) => r.status === 200).map((r) => r.arrayBuffer()));
    } finally {
      await tight.stop();
    }
  });

  it('answers 503 to a request still queued at its deadline', async () => {
    const impatient = await startTestBackend({ REQUEST_TIMEOUT_MS: '1', BATCHING: 'false', INTRA_OP_THREADS: '1' });
    try {
      const responses = await Promise.all(Array.from({ length: 3 }, () => impatient.signedRaw('/v2/models/paddleocr-det/infer', detBody)));
      const late = responses.filter((r) => r.status === 503);
      expect(late.length).toBeGreaterThan(0);
      expect(((await late[0]!.json()) as { error: string }).error).toMatch(/did not start this request within 1 ms/);
      await Promise.all(responses.filter((r) => r.status === 200).map((r) => r.arrayBuffer()));
    } finally {
      await impatient.stop();
    }
  });
});
