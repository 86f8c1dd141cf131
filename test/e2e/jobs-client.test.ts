// The typed client's async calls against the real edge in workerd: `ocr(file, { async: true })` hands
// back a job whose `wait()` resolves with what the synchronous `ocr(file)` answers. A one-line image
// runs at the edge, so no backend is needed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, JobFailedError } from '../../client/index.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
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
