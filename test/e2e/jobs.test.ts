// Async jobs end to end: the real edge in workerd (its queue, Durable Objects and R2 persisted to a
// directory, as `wrangler dev --persist-to` keeps them) and the real backend, started only after the
// jobs were accepted, on the port the edge was told.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../infra/local/free-port.ts';
import { Job, JobAccepted } from '../../protocol/jobs.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor, textLinePattern } from '../support/infer.ts';
import { seedApiKey } from '../support/api-keys.ts';

const recRequest = postJson({ inputs: [tensor('x', 'FP32', [1, 3, 48, 192], textLinePattern())] });
const asJob = (init: RequestInit): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), prefer: 'respond-async' },
});

/** Polls the job until it is finished; the bound only stops a broken run, nothing is timed. */
async function finished(edge: RunningWorker, id: string, init?: RequestInit): Promise<Job> {
  for (let polls = 0; polls < 1200; polls++) {
    const response = await edge.fetch(`/v1/jobs/${id}`, init);
    expect(response.status).toBe(200);
    const job = Job.parse(await response.json());
    if (job.status === 'succeeded' || job.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

describe('async jobs on a gpu model while the backend is down', () => {
  let stateDir: string;
  let backendPort: number;
  let edge: RunningWorker | undefined;
  let backend: StartedBackend | undefined;
  const vars = () => ({
    BACKEND_URL: `http://127.0.0.1:${backendPort}`,
    EDGE_SIGNING_SECRET: testSigningSecret,
    BACKEND_COOL_DOWN_MS: '500',
    JOB_RETRY_BASE_SECONDS: '1',
    JOB_RETRY_MAX_SECONDS: '1',
    JOB_WATCHDOG_MS: '3000',
  });
  const startEdge = () => startEdgeWorker({ vars: vars(), persistTo: stateDir });
  const startBackend = () => startTestBackend({ PORT: String(backendPort) });

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'edgeinfer-jobs-'));
    backendPort = await freeLoopbackPort();
  });
  afterAll(async () => {
    await edge?.stop();
    await backend?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('answers 202 at once with Location and Preference-Applied, then succeeds with the synchronous answer once the backend starts', async () => {
    edge = await startEdge();
    const accepted = await edge.fetch('/v2/models/paddleocr-rec/infer', asJob(recRequest));
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('preference-applied')).toBe('respond-async');
    const { id, status } = JobAccepted.parse(await accepted.json());
    expect(status).toBe('queued');
    expect(accepted.headers.get('location')).toBe(`/v1/jobs/${id}`);
    // The backend is down: the synchronous call cannot be answered, the job stays unfinished.
    expect((await edge.fetch('/v2/models/paddleocr-rec/infer', recRequest)).status).toBe(503);
    const waiting = Job.parse(await (await edge.fetch(`/v1/jobs/${id}`)).json());
    expect(['queued', 'running']).toContain(waiting.status);

    backend = await startBackend();
    const job = await finished(edge, id);
    expect(job.status).toBe('succeeded');
    expect(job.finished_at).toBeDefined();
    const synchronous = await edge.fetch('/v2/models/paddleocr-rec/infer', {
      ...recRequest,
      headers: { ...(recRequest.headers as Record<string, string>), 'cache-control': 'no-store' },
    });
    expect(synchronous.status).toBe(200);
    expect(job.result).toEqual(await synchronous.json());
  }, 240_000);

  it('loses nothing when the Worker restarts between accepting a job and running it', async () => {
    await backend?.stop();
    backend = undefined;
    edge ??= await startEdge();
    const accepted = await edge!.fetch('/v2/models/paddleocr-rec/infer', asJob(recRequest));
    expect(accepted.status).toBe(202);
    const { id } = JobAccepted.parse(await accepted.json());
    // The key lives on in the persisted API_KEYS namespace; the restarted harness seeds another.
    const owner = { headers: { authorization: `Bearer ${edge!.key.apiKey}` } };
    await edge!.stop();
    edge = undefined;

    edge = await startEdge();
    backend = await startBackend();
    const job = await finished(edge, id, owner);
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ model_name: 'paddleocr-rec' });
  }, 240_000);

  it("answers 404 to another key's read of a job, as to an unknown id", async () => {
    edge ??= await startEdge();
    const accepted = await edge!.fetch('/v2/models/paddleocr-rec/infer', asJob(recRequest));
    const { id } = JobAccepted.parse(await accepted.json());
    const other = await seedApiKey(edge!.apiKeys, { owner: 'someone-else' });
    const sameOwner = await seedApiKey(edge!.apiKeys);
    for (const key of [other, sameOwner]) {
      const read = await edge!.fetch(`/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key.apiKey}` } });
      expect(read.status).toBe(404);
    }
    expect((await edge!.fetch('/v1/jobs/job_00000000000000000000000000000000')).status).toBe(404);
    expect((await edge!.fetch(`/v1/jobs/${id}`)).status).toBe(200);
  });
});
