// The edge's own body limits (protocol/edge-limits.ts), in the real Worker: a request the manifest
// would allow but one isolate cannot hold is refused with 413 naming the edge's limit, the backend's,
// and how to send it instead, before any of it is decoded.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocrTask, vadTask } from '../../models/tasks/catalog.ts';
import { maxTaskBodyBytes } from '../../models/tasks/task-request.ts';
import { edgeRequestLimits } from '../../protocol/edge-limits.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

const over = (bytes: number) => new Uint8Array(bytes + 1) as Uint8Array<ArrayBuffer>;
const error = async (res: Response) => ((await res.json()) as { error: string }).error;

describe("the edge's body limits", () => {
  it('refuses a raw task file over the edge limit, naming it, the backend limit and what to send instead', async () => {
    const res = await edge.fetch('/v1/vad', {
      method: 'POST',
      headers: { 'content-type': 'audio/wav' },
      body: over(edgeRequestLimits.taskRawBytes),
    });
    expect(res.status).toBe(413);
    const message = await error(res);
    expect(message).toContain(`the edge's limit of ${edgeRequestLimits.taskRawBytes} bytes`);
    expect(message).toContain(`the backend's limit is ${vadTask.limits.maxFileBytes} bytes`);
    expect(message).toMatch(/send a shorter recording/);
  });

  it('refuses a JSON task batch over the edge limit and points at raw files, one per request', async () => {
    const res = await edge.fetch('/v1/ocr', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: over(edgeRequestLimits.taskJsonBytes),
    });
    expect(res.status).toBe(413);
    const message = await error(res);
    expect(message).toContain(`the edge's limit of ${edgeRequestLimits.taskJsonBytes} bytes`);
    expect(message).toContain(`the backend's limit is ${maxTaskBodyBytes(ocrTask.limits)} bytes`);
    expect(message).toMatch(/send fewer files per request, or each file as raw bytes/);
  });

  it('refuses a JSON infer body over the edge limit and points at binary tensors, whose own limit is larger', async () => {
    const res = await edge.fetch('/v2/models/paddleocr-rec/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: over(edgeRequestLimits.inferJsonBytes),
    });
    expect(res.status).toBe(413);
    expect(await error(res)).toMatch(
      new RegExp(
        `edge's limit of ${edgeRequestLimits.inferJsonBytes} bytes.*binary data .* up to ${edgeRequestLimits.inferBinaryBytes} bytes`,
      ),
    );
  });

  it('refuses a body that lies about its length once it passes the edge limit while streaming', async () => {
    // One chunk past the limit and no more: the edge answers once it passes the limit, and a client
    // still writing then would see its connection reset before it reads the answer.
    const chunk = new Uint8Array(256 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > edgeRequestLimits.taskRawBytes) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await edge.fetch('/v1/vad', {
      method: 'POST',
      headers: { 'content-type': 'audio/wav' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await error(res)).toContain(`the edge's limit of ${edgeRequestLimits.taskRawBytes} bytes`);
  });
});
