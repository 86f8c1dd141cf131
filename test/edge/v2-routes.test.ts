import { servedManifest, servedVersions } from '../support/serving.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';
import { bodyHeaders, decodeInferResponseBody, encodeBinaryInferRequest, inferenceHeaderContentLength } from '../../protocol/binary.ts';
import type { Tensor } from '../../protocol/tensor-codec.ts';
import { postJson, sileroFrameInput, tensor } from '../support/infer.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

const sileroInputs = [
  tensor('input', 'FP32', [2, 576], new Float32Array(2 * 576)),
  tensor('state', 'FP32', [2, 2, 128], new Float32Array(2 * 2 * 128)),
  tensor('sr', 'INT64', [], [16000]),
];

describe('edge v2 routes', () => {
  it('describes the server and the protocol extensions it speaks', async () => {
    const res = await edge.fetch('/v2');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; version: string; extensions: string[] };
    expect(body.name).toBe('edgeinfer-edge');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Array.isArray(body.extensions)).toBe(true);
  });

  it('reports live and ready', async () => {
    expect((await edge.fetch('/v2/health/live')).status).toBe(200);
    expect((await edge.fetch('/v2/health/ready')).status).toBe(200);
  });

  it('serves metadata for edge-tier models from their manifests', async () => {
    const res = await edge.fetch('/v2/models/silero-vad');
    expect(res.status).toBe(200);
    const servable = (await servedManifest('silero-vad')).versions
      .filter((v) => !v.quantization || v.evaluation?.passed)
      .map((v) => v.version);
    expect(servable).toEqual(expect.arrayContaining(['5']));
    expect(await res.json()).toEqual({
      name: 'silero-vad',
      versions: servable,
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [-1, -1] },
        { name: 'state', datatype: 'FP32', shape: [2, -1, 128] },
        { name: 'sr', datatype: 'INT64', shape: [] },
      ],
      outputs: [
        { name: 'output', datatype: 'FP32', shape: [-1, 1] },
        { name: 'stateN', datatype: 'FP32', shape: [2, -1, 128] },
      ],
    });
    expect((await edge.fetch('/v2/models/paddleocr-cls/versions/2.0')).status).toBe(200);
  });

  it('describes gpu-tier models too, and answers 503 with Retry-After while their backend is unreachable', async () => {
    expect((await edge.fetch('/v2/models/paddleocr-rec')).status).toBe(200);
    const res = await edge.fetch(
      '/v2/models/paddleocr-rec/infer',
      postJson({ inputs: [tensor('x', 'FP32', [1, 3, 48, 32], new Float32Array(3 * 48 * 32))] }),
    );
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: string }).error).toMatch(/GPU backend is unavailable/);
  });

  it('answers a model ready once its session exists', async () => {
    const res = await edge.fetch('/v2/models/paddleocr-cls/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'paddleocr-cls', version: '2.0', ready: true });
  });

  it('runs inference, echoing the id and naming the model and version that answered', async () => {
    const res = await edge.fetch('/v2/models/silero-vad/infer', postJson({ id: 'req-42', inputs: sileroInputs }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('edge');
    const body = (await res.json()) as {
      model_name: string;
      model_version: string;
      id: string;
      outputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    };
    expect(body).toMatchObject({
      model_name: 'silero-vad',
      model_version: (await servedVersions('edge', ['silero-vad']))['silero-vad'],
      id: 'req-42',
    });
    expect(body.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['output', 'FP32', [2, 1]],
      ['stateN', 'FP32', [2, 2, 128]],
    ]);
    for (const p of body.outputs[0]!.data) expect(p).toBeGreaterThanOrEqual(0);
  });

  it('runs the reference version at the edge when a request names it', async () => {
    const res = await edge.fetch('/v2/models/silero-vad/versions/5/infer', postJson({ inputs: sileroInputs }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('edge');
    expect(((await res.json()) as { model_version: string }).model_version).toBe('5');
  });

  it('answers only the requested outputs, in the requested order', async () => {
    const res = await edge.fetch(
      '/v2/models/silero-vad/versions/5/infer',
      postJson({ inputs: sileroInputs, outputs: [{ name: 'stateN' }] }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id?: string; outputs: { name: string }[] };
    expect(body.outputs.map((o) => o.name)).toEqual(['stateN']);
    expect(body).not.toHaveProperty('id');
  });

  it('accepts tensor data nested to the tensor rank', async () => {
    const nested = [Array(576).fill(0.01)];
    const res = await edge.fetch(
      '/v2/models/silero-vad/infer',
      postJson({
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 576], data: nested },
          tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
          tensor('sr', 'INT64', [], [16000]),
        ],
      }),
    );
    expect(res.status).toBe(200);
  });

  it('accepts binary tensor data and answers binary outputs that equal the JSON answer', async () => {
    const frame = sileroFrameInput(
      Float32Array.from({ length: 2048 }, (_, i) => 0.4 * Math.sin(i / 4)),
      2,
    );
    const inputs: Tensor[] = [
      { name: 'input', datatype: 'FP32', shape: [1, frame.length], data: frame },
      { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Float32Array(256) },
      { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.from([16000n]) },
    ];
    const encoded = encodeBinaryInferRequest({ id: 'bin', inputs, binaryOutputs: true });
    const res = await edge.fetch('/v2/models/silero-vad/infer', {
      method: 'POST',
      headers: bodyHeaders(encoded),
      body: encoded.body as Uint8Array<ArrayBuffer>,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const binary = decodeInferResponseBody(new Uint8Array(await res.arrayBuffer()), res.headers.get(inferenceHeaderContentLength));
    expect(binary.header.id).toBe('bin');

    const json = await edge.fetch(
      '/v2/models/silero-vad/infer',
      postJson({
        inputs: [
          tensor('input', 'FP32', [1, frame.length], frame),
          tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
          tensor('sr', 'INT64', [], [16000]),
        ],
      }),
    );
    const jsonBody = (await json.json()) as { outputs: { name: string; data: number[] }[] };
    for (const output of binary.outputs) {
      expect(Array.from(output.data as Float32Array)).toEqual(jsonBody.outputs.find((o) => o.name === output.name)!.data);
    }
  });
});
