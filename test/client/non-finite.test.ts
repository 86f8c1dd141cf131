// NaN and ±Infinity through the project's own client, both ways and across both tiers: an input near
// FP32's largest value makes the models answer NaN (written "NaN" in JSON, protocol/datatypes.ts), and
// the client hands it back as the number NaN; NaN and ±Infinity sent by the client go by name.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../client/index.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';

let backend: StartedBackend;
let edge: RunningWorker;
beforeAll(async () => {
  backend = await startTestBackend();
  edge = await startEdgeWorker({ vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret } });
  // Both tiers with every model version loaded: minutes on a loaded 2-core machine.
}, 300_000);
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
});

const client = () => createClient({ baseUrl: edge.url, apiKey: edge.key.apiKey, maxRetries: 0 });

describe('non-finite values through the client', () => {
  it('reads NaN outputs from the backend (via the edge) as NaN, for inputs near the FP32 maximum', async () => {
    const result = await client().infer('paddleocr-rec', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 32], data: new Array(3 * 48 * 32).fill(3e38) }],
    });
    const [output] = result.outputs;
    expect(output!.shape).toEqual([1, 4, 6625]);
    expect(output!.data.some((value) => typeof value === 'number' && Number.isNaN(value))).toBe(true);
    expect(output!.data.every((value) => typeof value === 'number')).toBe(true);
  });

  it('sends NaN and ±Infinity inputs by name, which the edge accepts and runs', async () => {
    const sent: string[] = [];
    const recording: typeof fetch = async (url, init) => {
      sent.push(String(init?.body));
      return fetch(url, init);
    };
    const input = new Array(576).fill(0);
    input[10] = Number.NaN;
    input[20] = Number.POSITIVE_INFINITY;
    input[30] = Number.NEGATIVE_INFINITY;
    const result = await createClient({ baseUrl: edge.url, apiKey: edge.key.apiKey, maxRetries: 0, fetch: recording }).infer('silero-vad', {
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 576], data: input },
        { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Array(256).fill(0) },
        { name: 'sr', datatype: 'INT64', shape: [], data: [16000] },
      ],
    });
    expect(sent[0]).toContain('0,"NaN",0');
    expect(sent[0]).toContain('0,"Infinity",0');
    expect(sent[0]).toContain('0,"-Infinity",0');
    expect(sent[0]).not.toContain('null');
    const output = result.outputs.find((o) => o.name === 'output')!;
    expect(output.data.every((value) => typeof value === 'number')).toBe(true);
  });

  it('writes NaN outputs as "NaN" in the backend\'s JSON, never as null', async () => {
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 32], data: new Array(3 * 48 * 32).fill('Infinity') }] };
    const json = await backend.signedPost('/v2/models/paddleocr-rec/infer', body);
    expect(json.status).toBe(200);
    const text = await json.text();
    expect(text).toContain('"NaN"');
    expect(text).not.toContain('null');
  });
});
