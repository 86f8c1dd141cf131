// Whatever a caller sends, the edge answers without a 5xx, and every 4xx is JSON with an `error`.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datatypes } from '../../protocol/datatypes.ts';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

const value = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string({ maxLength: 4 }), fc.constant(null), fc.bigInt().map(String));
const dimension = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -2, max: 700 }) },
  { weight: 1, arbitrary: fc.constantFrom(1e12, 2 ** 53, 1.5, -0, 65, 128, 576) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })) },
);
const data = fc.oneof(
  fc.array(value, { maxLength: 700 }),
  fc.array(fc.array(value, { maxLength: 12 }), { maxLength: 12 }),
  fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 576, maxLength: 576 }),
  fc.anything({ maxDepth: 2 }),
);
const input = fc.record(
  {
    name: fc.oneof(fc.constantFrom('input', 'state', 'sr', 'x'), fc.string({ maxLength: 6 })),
    datatype: fc.oneof(fc.constantFrom(...datatypes), fc.string({ maxLength: 6 })),
    shape: fc.oneof(fc.array(dimension, { maxLength: 5 }), fc.anything({ maxDepth: 1 })),
    data,
    parameters: fc.dictionary(fc.string({ maxLength: 4 }), value, { maxKeys: 2 }),
  },
  { requiredKeys: ['name', 'shape', 'datatype', 'data'] },
);
const inferBody = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
    inputs: fc.oneof(fc.array(input, { minLength: 1, maxLength: 4 }), fc.anything({ maxDepth: 1 })),
    outputs: fc.array(fc.record({ name: fc.constantFrom('output', 'stateN', 'softmax_0.tmp_0', 'nope') }), { maxLength: 3 }),
  },
  { requiredKeys: ['inputs'] },
);
// Requests that pass the manifest's checks with sizes the graphs may still refuse (too few samples for
// silero's padding, images too small for the classifier's pooling), so the run itself is exercised.
const filled = (count: number) => fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: count, maxLength: count });
const plausibleSilero = fc
  .record({
    rows: fc.integer({ min: 0, max: 2 }),
    samples: fc.integer({ min: 0, max: 700 }),
    stateRows: fc.integer({ min: 0, max: 2 }),
    sr: fc.integer({ min: -1, max: 48000 }),
  })
  .chain(({ rows, samples, stateRows, sr }) =>
    fc.tuple(filled(rows * samples), filled(2 * stateRows * 128)).map(([audio, state]) => ({
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [rows, samples], data: audio },
        { name: 'state', datatype: 'FP32', shape: [2, stateRows, 128], data: state },
        { name: 'sr', datatype: 'INT64', shape: [], data: [sr] },
      ],
    })),
  );
const plausibleCls = fc
  .record({ rows: fc.integer({ min: 0, max: 2 }), height: fc.integer({ min: 0, max: 40 }), width: fc.integer({ min: 0, max: 40 }) })
  .chain(({ rows, height, width }) =>
    filled(rows * 3 * height * width).map((pixels) => ({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 3, height, width], data: pixels }],
    })),
  );
const body = fc.oneof(
  { weight: 3, arbitrary: inferBody.map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: fc.oneof(plausibleSilero, plausibleCls).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
);

describe('edge under arbitrary input', () => {
  it('never answers 5xx, and every 4xx is a JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('silero-vad', 'paddleocr-cls', 'silero-vad/versions/5', 'nope'),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined),
        body,
        async (model, contentType, payload) => {
          const res = await edge.fetch(`/v2/models/${model}/infer`, {
            method: 'POST',
            headers: contentType ? { 'content-type': contentType } : {},
            body: payload,
          });
          const text = await res.text();
          expect(res.status, text).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.headers.get('content-type')).toContain('application/json');
            expect(typeof (JSON.parse(text) as { error: unknown }).error).toBe('string');
          }
        },
      ),
      { numRuns: 300 },
    );
    // The Worker is still healthy afterwards.
    expect((await edge.fetch('/v2/health/ready')).status).toBe(200);
  });
});
