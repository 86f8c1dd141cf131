// A finished job's webhook, delivered by the real edge in workerd to a real local HTTP receiver that
// fails the first delivery: retried with the same webhook-id, each delivery signed as Standard
// Webhooks do with the caller's own secret.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, JobAccepted, webhookRequestHeader } from '../../protocol/jobs.ts';
import { verifyWebhook } from '../../protocol/webhooks.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

interface Delivery {
  headers: Record<string, string>;
  body: string;
  answered: number;
}

const frame = postJson({
  inputs: [
    tensor(
      'input',
      'FP32',
      [1, 576],
      new Float32Array(576).map((_, i) => Math.sin(i / 9) * 0.3),
    ),
    tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
    tensor('sr', 'INT64', [], [16000]),
  ],
});

describe('job webhooks', () => {
  let edge: RunningWorker;
  let receiver: Server;
  const deliveries: Delivery[] = [];
  let secondDelivery: () => void;
  const delivered = new Promise<void>((resolve) => {
    secondDelivery = resolve;
  });

  beforeAll(async () => {
    // The first delivery is answered 500, every later one 200.
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const answered = deliveries.length === 0 ? 500 : 200;
        deliveries.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8'), answered });
        res.writeHead(answered).end();
        if (deliveries.length === 2) secondDelivery();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    edge = await startEdgeWorker({
      vars: { BACKEND_URL: 'http://127.0.0.1:9', JOB_RETRY_BASE_SECONDS: '1', JOB_RETRY_MAX_SECONDS: '1', JOB_WATCHDOG_MS: '5000' },
    });
  });
  afterAll(async () => {
    await edge?.stop();
    receiver?.close();
  });

  it('delivers the finished job with a valid signature, and again after the receiver answered 500', async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const accepted = await edge.fetch('/v2/models/silero-vad/infer', {
      ...frame,
      headers: { ...(frame.headers as Record<string, string>), prefer: 'respond-async', [webhookRequestHeader]: url },
    });
    expect(accepted.status).toBe(202);
    const { id } = JobAccepted.parse(await accepted.json());
    await delivered;

    const { secret } = (await (await edge.fetch('/v1/webhook-secret')).json()) as { secret: string };
    expect(secret).toMatch(/^whsec_/);
    expect(deliveries.map((d) => d.answered)).toEqual([500, 200]);
    for (const delivery of deliveries) {
      expect(delivery.headers['webhook-id']).toBe(id);
      expect(await verifyWebhook(secret, delivery.headers, delivery.body)).toEqual({ valid: true });
      // Another owner's secret does not verify it.
      const otherSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      expect((await verifyWebhook(otherSecret, delivery.headers, delivery.body)).valid).toBe(false);
    }
    const job = Job.parse(JSON.parse(deliveries[1]!.body));
    expect(job).toMatchObject({ id, status: 'succeeded' });
    const synchronous = await edge.fetch('/v2/models/silero-vad/infer', {
      ...frame,
      headers: { ...(frame.headers as Record<string, string>), 'cache-control': 'no-store' },
    });
    expect(job.result).toEqual(await synchronous.json());
    // The job reads the same at its Location.
    expect(Job.parse(await (await edge.fetch(`/v1/jobs/${id}`)).json())).toEqual(job);
  });

  it('refuses a webhook that is not an http(s) URL', async () => {
    const refused = await edge.fetch('/v2/models/silero-vad/infer', {
      ...frame,
      headers: { ...(frame.headers as Record<string, string>), prefer: 'respond-async', [webhookRequestHeader]: 'ftp://example.test/x' },
    });
    expect(refused.status).toBe(400);
  });
});
