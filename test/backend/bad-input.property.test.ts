import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse } from '../../protocol/schemas.ts';
import { type StartedBackend, startTestBackend } from '../support/backend.ts';

let server: StartedBackend;
beforeAll(async () => {
  server = await startTestBackend({ EDGE_SIGNATURE_REQUIRED: 'false', EDGE_SIGNING_SECRET: '' });
});
afterAll(() => server?.stop());

async function expectClientError(res: Response): Promise<void> {
  const text = await res.text();
  expect(res.status, text.slice(0, 200)).toBeGreaterThanOrEqual(400);
  expect(res.status, text.slice(0, 200)).toBeLessThan(500);
  expect(() => ErrorResponse.parse(JSON.parse(text))).not.toThrow();
}

// Tensors close to valid ones: right and wrong names, datatypes, ranks, sizes and values.
const nearTensor = fc.record({
  name: fc.constantFrom('x', 'y', ''),
  datatype: fc.constantFrom('FP32', 'FP16', 'INT64', 'BOOL', 'FP33'),
  shape: fc.array(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.constant(48), fc.constant(1e9), fc.double()), { maxLength: 5 }),
  data: fc.array(fc.oneof(fc.double(), fc.boolean(), fc.string(), fc.array(fc.double(), { maxLength: 3 })), { maxLength: 40 }),
});

describe('bad input', () => {
  it('answers any JSON body that is not a valid infer request with 4xx JSON, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), fc.record({ inputs: fc.array(nearTensor, { maxLength: 3 }) }, { requiredKeys: [] })),
        async (body) => {
          const res = await server.fetch('/v2/models/paddleocr-rec/infer', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          await expectClientError(res);
        },
      ),
      { numRuns: 150 },
    );
    expect((await server.fetch('/v2/health/ready')).status).toBe(200);
  });

  it('answers binary bodies whose header length or sizes lie with 4xx JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.oneof(fc.integer({ min: -5, max: 400 }).map(String), fc.constantFrom('', 'abc', '1e3', ' 12')),
        fc.integer({ min: -10, max: 1000 }),
        async (tail, headerLength, declaredSize) => {
          const header = new TextEncoder().encode(
            JSON.stringify({
              inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 1], parameters: { binary_data_size: declaredSize } }],
            }),
          );
          const body = new Uint8Array([...header, ...tail]);
          const res = await server.fetch('/v2/models/paddleocr-rec/infer', {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength },
            body,
          });
          // A body that happens to be exactly right (576 bytes of data) runs; everything else is a 4xx.
          if (res.status === 200) return;
          await expectClientError(res);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers malformed Vertex AI requests with 4xx JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ instances: fc.array(fc.jsonValue(), { maxLength: 4 }), parameters: fc.dictionary(fc.string(), fc.jsonValue()) }),
        ),
        async (body) => {
          const res = await server.fetch('/predict', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...(typeof body === 'object' && body), parameters: { model: 'paddleocr-det' } }),
          });
          await expectClientError(res);
        },
      ),
      { numRuns: 100 },
    );
  });
});
