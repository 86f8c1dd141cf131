// The typed client's async calls against the real edge in workerd: `ocr(file, { async: true })` (and
// `vad`, `infer` likewise) hands back a job whose `wait()` resolves with what the synchronous call
// answers. A one-line image, the speech fixture and silero-vad run at the edge, so no backend is needed.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, JobFailedError } from '../../client/index.ts';
import { repoRoot, type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { type RenderedImage, type Renderer, textRenderer } from '../support/render-text.ts';

describe('client async jobs', () => {
  let edge: RunningWorker;
  let renderer: Renderer;
  let line: RenderedImage;
  beforeAll(async () => {
    renderer = await textRenderer();
    line = await renderer.render('one-line', { lines: ['Order 4471 shipped'], font: 'DejaVu-Sans', pointSize: 22, format: 'png' });
    edge = await startEdgeWorker({ vars: { JOB_RETRY_BASE_SECONDS: '1', JOB_RETRY_MAX_SECONDS: '1' } });
  });
  afterAll(async () => {
    await edge?.stop();
    await renderer?.close();
  });

  it('returns a job handle whose wait() resolves with the synchronous answer, and jobs.get reads it', async () => {
    const client = createClient({ baseUrl: edge.url, apiKey: edge.key.apiKey });
    const handle = await client.ocr(line.bytes, { async: true });
    expect(handle.id).toMatch(/^job_[0-9a-f]{32}$/);
    const result = await handle.wait({ pollIntervalMs: 50 });
    expect(result).toEqual(await client.ocr(line.bytes));
    const job = await client.jobs.get(handle.id);
    expect(job).toMatchObject({ id: handle.id, status: 'succeeded', result });
  });

  it('runs vad and infer as jobs too, each resolving with its synchronous answer', async () => {
    const client = createClient({ baseUrl: edge.url, apiKey: edge.key.apiKey });
    // The synchronous calls run the model again (no-store): a cache hit would be the job's own answer.
    const uncached = createClient({
      baseUrl: edge.url,
      apiKey: edge.key.apiKey,
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), 'cache-control': 'no-store' } }),
    });
    const speech = readFileSync(join(repoRoot, 'test/fixtures/speech-16k.wav'));
    const segments = await (await client.vad(speech, { threshold: 0.5 }, { async: true })).wait({ pollIntervalMs: 50 });
    expect(segments.segments.length).toBeGreaterThan(0);
    expect(segments).toEqual(await uncached.vad(speech, { threshold: 0.5 }));

    const frame = {
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 576], data: Array.from({ length: 576 }, (_, i) => Math.sin(i / 9) / 4) },
        { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Array(256).fill(0) },
        { name: 'sr', datatype: 'INT64', shape: [], data: [16000] },
      ],
    };
    const inferred = await (await client.infer('silero-vad', frame, { async: true })).wait({ pollIntervalMs: 50 });
    expect(inferred.outputs.map((o) => o.name).sort()).toEqual(['output', 'stateN']);
    expect(inferred).toEqual(await uncached.infer('silero-vad', frame));
  });

  it('throws JobFailedError with the reason when the job failed', async () => {
    const client = createClient({ baseUrl: edge.url, apiKey: edge.key.apiKey });
    // A PNG header over a body that is not an image: accepted (its header is read), refused when decoded.
    const broken = new Uint8Array(line.bytes);
    broken.fill(7, 64);
    const handle = await client.ocr(broken, { async: true });
    const failure = await handle.wait({ pollIntervalMs: 50 }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(JobFailedError);
    expect((failure as JobFailedError).job.status).toBe('failed');
    expect((failure as JobFailedError).message).toMatch(/^4\d\d: /);
  });
});
