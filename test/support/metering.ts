// What the metering tests share: silero-vad frames in batches, and waiting for the metering queue.

import { UsageResponse } from '../../protocol/usage.ts';
import type { RunningWorker } from './edge-worker.ts';
import { type JsonTensor, tensor } from './infer.ts';

export const today = () => new Date().toISOString().slice(0, 10);

/** A silero-vad request of `batch` frames: 576·batch + 256·batch + 1 input elements. */
export function vadFrames(batch: number): JsonTensor[] {
  return [
    tensor('input', 'FP32', [batch, 576], new Float32Array(576 * batch).fill(0.01)),
    tensor('state', 'FP32', [2, batch, 128], new Float32Array(256 * batch)),
    tensor('sr', 'INT64', [], [16000]),
  ];
}

export async function usageOf(edge: RunningWorker, apiKey: string, from = today(), to = today()): Promise<Response> {
  return edge.fetch(`/v1/usage?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${apiKey}` } });
}

/**
 * Events reach the store through the queue after the answers (its batches wait up to a second); the
 * usage is read until `expected` requests are in, then once more, so a late duplicate would show.
 */
export async function settledUsage(edge: RunningWorker, apiKey: string, expected: number, waitMs = 30_000): Promise<UsageResponse> {
  const deadline = Date.now() + waitMs;
  let last: UsageResponse | undefined;
  while (Date.now() < deadline) {
    const res = await usageOf(edge, apiKey);
    if (res.status === 200) {
      last = UsageResponse.parse(await res.json());
      if (last.total.requests >= expected) {
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        return UsageResponse.parse(await (await usageOf(edge, apiKey)).json());
      }
    } else await res.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`usage never reached ${expected} requests (last: ${JSON.stringify(last?.total)})`);
}
