// A caller that hangs up during /v1/vad on the backend: its recording's scan stops at its next turn on
// the session thread (gpu-backend/session-worker.ts) instead of running to the end, the backend logs
// it as client-gone, and the thread serves the next request.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../protocol/signature.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { buildWav, pcm16Bytes } from '../support/speech.ts';

let b: StartedBackend;
beforeAll(async () => {
  b = await startTestBackend();
});
afterAll(() => b?.stop());

/** Tone bursts and near-silence at 16 kHz: `seconds` of audio. */
const recording = (seconds: number) =>
  buildWav({ data: pcm16Bytes(new Float32Array(16000 * seconds).map((_, i) => 0.4 * Math.sin(i / 7) * (i % 24000 < 12000 ? 1 : 0.02))) });

async function post(bytes: Uint8Array, signal?: AbortSignal): Promise<Response> {
  const headers = await signRequest(testSigningSecret, 'POST', '/v1/vad', bytes, Date.now());
  return b.fetch('/v1/vad', {
    method: 'POST',
    headers: { 'content-type': 'audio/wav', ...headers },
    body: bytes as Uint8Array<ArrayBuffer>,
    signal,
  });
}

describe('POST /v1/vad on the backend, its caller gone', () => {
  it('stops the scan mid-recording, logs client-gone, and the session thread serves the next request', async () => {
    const thread = b.backend.deps.runtime.sessionThread(b.backend.deps.registry.resolve('silero-vad'))!;
    const seconds = 590;
    // One 512-sample frame per step, the last one padded.
    const steps = Math.ceil((16000 * seconds) / 512);
    const controller = new AbortController();
    const answer = post(recording(seconds), controller.signal).then(
      () => 'answered',
      (err: Error) => err.name,
    );
    // Asked until the scan is under way (the upload and decode come first); bounded, never a sleep.
    let under: { step: number; steps: number } | undefined;
    for (let asked = 0; !under && asked < 100_000; asked++) [under] = await thread.ping();
    expect(under?.steps).toBe(steps);
    controller.abort();
    expect(await answer).toBe('AbortError');
    // The next ping that finds no scan: the cancelled one stopped before its end.
    let left = [under!];
    let lastSeen = under!.step;
    for (let asked = 0; left.length > 0 && asked < 100_000; asked++) {
      left = await thread.ping();
      if (left[0]) lastSeen = left[0].step;
    }
    expect(left).toEqual([]);
    expect(lastSeen).toBeLessThan(steps);
    const logged = () => b.logs.some((line) => line.includes('client-gone: POST /v1/vad: the caller went away during the scan'));
    for (let asked = 0; !logged() && asked < 10_000; asked++) await thread.ping();
    expect(logged()).toBe(true);
    const next = await post(recording(3));
    expect(next.status).toBe(200);
    expect((await next.json()).duration_ms).toBe(3000);
  });
});
