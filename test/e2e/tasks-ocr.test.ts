// /v1/ocr across the tiers on rendered text: a small image runs entirely at the edge with the versions
// chosen for it; a larger one goes to the backend in one hop, and says so; the backend's answer is the
// pipeline's; the same pipeline in the edge's runtime (onnxruntime-web) reads the same lines; batches
// answer per file.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OcrBatchResponse, OcrResponse } from '../../protocol/tasks.ts';
import { ocrTask } from '../../models/tasks/catalog.ts';
import { parseDictionary, readText } from '../../models/tasks/ocr/index.ts';
import { parseServerTiming } from '../../models/tasks/timings.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { repoRoot, type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { textRenderer, type RenderedImage, type Renderer } from '../support/render-text.ts';
import { servedVersions } from '../support/serving.ts';
import { seedApiKey } from '../support/api-keys.ts';
import { webRunModel } from '../support/web-run-model.ts';

// Texts are compared exactly as printed, spaces included, on both tiers and in the edge's runtime.
const lines = ['Invoice 2041, due 30 June', 'Total: 118.40 EUR'];

let backend: StartedBackend;
let edge: RunningWorker;
let renderer: Renderer;
let png: RenderedImage;
let jpeg: RenderedImage;

beforeAll(async () => {
  renderer = await textRenderer();
  png = await renderer.render('invoice', { lines, font: 'DejaVu-Sans', pointSize: 28, format: 'png' });
  jpeg = await renderer.render('invoice-upside-down', { lines, font: 'Liberation-Serif', pointSize: 30, format: 'jpeg', rotate: 180 });
  backend = await startTestBackend();
  edge = await startEdgeWorker({ vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret } });
});
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
  await renderer?.close();
});

const image = (bytes: Uint8Array, type: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': type, ...headers },
  body: bytes as Uint8Array<ArrayBuffer>,
});

describe('POST /v1/ocr', () => {
  it('reads a one-line image entirely at the edge as printed, with the versions chosen for the edge', async () => {
    const small = await renderer.render('one-line', { lines: ['Order 4471 shipped'], font: 'DejaVu-Sans', pointSize: 22, format: 'png' });
    const res = await edge.fetch('/v1/ocr', image(small.bytes, 'image/png'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('edge');
    const body = OcrResponse.parse(await res.json());
    expect(body.width * body.height).toBeLessThanOrEqual(ocrTask.routing!.edgeMaxPixels);
    expect(body.text).toBe('Order 4471 shipped');
    expect(body.models).toEqual(await servedVersions('edge', ocrTask.models));
    // The same image on the backend reads the same text.
    const direct = OcrResponse.parse(await (await backend.signedRaw('/v1/ocr', small.bytes, 'image/png')).json());
    expect(direct.text).toBe(body.text);
  });

  it.each([
    { text: 'Gate closes at 7:45 sharp', font: 'Liberation-Sans', pointSize: 20, format: 'jpeg', quality: 80 },
    { text: 'Room 12B, second floor', font: 'Liberation-Mono', pointSize: 18, format: 'png' },
    { text: 'Keep this receipt safe', font: 'Liberation-Serif', pointSize: 26, format: 'jpeg', quality: 75 },
    { text: 'Weight 2.5 kg per unit', font: 'DejaVu-Sans', pointSize: 16, format: 'png' },
  ] as const)('reads "$text" ($font $pointSize, $format) as printed at the edge and on the backend', async (line) => {
    const rendered = await renderer.render(`line-${line.font}-${line.pointSize}`, { ...line, lines: [line.text] });
    const type = line.format === 'png' ? 'image/png' : 'image/jpeg';
    const res = await edge.fetch('/v1/ocr', image(rendered.bytes, type));
    expect(res.headers.get('x-edgeinfer-tier')).toBe('edge');
    expect(OcrResponse.parse(await res.json()).text).toBe(line.text);
    const direct = OcrResponse.parse(await (await backend.signedRaw('/v1/ocr', rendered.bytes, type)).json());
    expect(direct.text).toBe(line.text);
  });

  it('reads the rendered lines as printed and in order, forwarded by the edge to the backend in one hop', async () => {
    const res = await edge.fetch('/v1/ocr', image(png.bytes, 'image/png', { 'x-request-id': 'ocr-1' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    expect(res.headers.get('x-request-id')).toBe('ocr-1');
    const body = OcrResponse.parse(await res.json());
    expect(body.width * body.height).toBeGreaterThan(ocrTask.routing!.edgeMaxPixels);
    expect(body.text).toBe(lines.join('\n'));
    expect(body.models).toEqual(await servedVersions('gpu', ocrTask.models));
    expect(body.lines).toHaveLength(2);
    // The backend timed each stage and model; the edge added its own total.
    expect(Object.keys(parseServerTiming(res.headers.get('server-timing')))).toEqual(
      expect.arrayContaining([
        'decode',
        'preprocess',
        'postprocess',
        'model-paddleocr-det',
        'model-paddleocr-cls',
        'model-paddleocr-rec',
        'task',
        'edge',
      ]),
    );
  });

  it('reads an upside-down JPEG in another font, boxes inside the image', async () => {
    const body = OcrResponse.parse(await (await edge.fetch('/v1/ocr', image(jpeg.bytes, 'image/jpeg'))).json());
    expect(body.text).toBe(lines.join('\n'));
    for (const line of body.lines)
      for (const [x, y] of line.box) expect(x >= 0 && x <= body.width && y >= 0 && y <= body.height).toBe(true);
  });

  it('answers what the backend answers directly, and what the pipeline reads in the edge runtime', async () => {
    const viaEdge = OcrResponse.parse(await (await edge.fetch('/v1/ocr', image(png.bytes, 'image/png'))).json());
    const direct = OcrResponse.parse(await (await backend.signedRaw('/v1/ocr', png.bytes, 'image/png')).json());
    expect(direct).toEqual(viaEdge);

    const labels = JSON.parse(await readFile(join(repoRoot, 'models/paddleocr-rec/manifest.json'), 'utf8')).versions[0].labels
      .file as string;
    const dictionary = parseDictionary(await readFile(join(repoRoot, 'models/paddleocr-rec', labels), 'utf8'));
    const inWasm = await readText(png.bytes, webRunModel().run, { dictionary, maxPixels: ocrTask.limits.maxPixels });
    expect(inWasm.lines.map((l) => l.text)).toEqual(direct.lines.map((l) => l.text));
    inWasm.lines.forEach((line, i) =>
      line.box.forEach(([x, y], k) => {
        expect(Math.abs(x - direct.lines[i]!.box[k]![0])).toBeLessThanOrEqual(1);
        expect(Math.abs(y - direct.lines[i]!.box[k]![1])).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('answers a JSON batch with one result per image, in order', async () => {
    const files = [png.bytes, jpeg.bytes].map((bytes) => Buffer.from(bytes).toString('base64'));
    const res = await edge.fetch('/v1/ocr', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files }),
    });
    expect(res.status).toBe(200);
    const body = OcrBatchResponse.parse(await res.json());
    expect(body.results).toHaveLength(2);
    for (const result of body.results) expect(result.text).toBe(lines.join('\n'));
  });

  it('charges the rate limit by megapixels (one unit per started workPerUnit of each image), and by run time when more', async () => {
    const fresh = await seedApiKey(edge.apiKeys, { plan: 'pro' });
    const files = [png.bytes, jpeg.bytes].map((bytes) => Buffer.from(bytes).toString('base64'));
    const res = await edge.fetch('/v1/ocr', {
      method: 'POST',
      // no-store: an earlier test sent this batch, and a cache hit costs one request, not its megapixels.
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fresh.apiKey}`, 'cache-control': 'no-store' },
      body: JSON.stringify({ files }),
    });
    expect(res.status).toBe(200);
    const { results } = OcrBatchResponse.parse(await res.json());
    const units = results.reduce((sum, { width, height }) => sum + Math.max(1, Math.ceil((width * height) / ocrTask.units.workPerUnit)), 0);
    expect(units).toBe(2);
    // The images weigh 2 units before the run; a batch the backend ran for longer is charged its run
    // time's units after the answer (README, Units of work), and the headers count both.
    const charged = Number(res.headers.get('x-edgeinfer-units'));
    expect(charged).toBeGreaterThanOrEqual(units);
    expect(Number(res.headers.get('ratelimit-limit')) - Number(res.headers.get('ratelimit-remaining'))).toBe(charged);
  });
});
