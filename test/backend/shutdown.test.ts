import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnBackend } from '../support/backend.ts';
import { tensor } from '../support/infer.ts';

// 640×640 detector runs on one thread take long enough that requests are still queued or reading
// their bodies when SIGTERM arrives; batching is off so that each of them is a separate run to finish.
const detBody = JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 640, 640], new Float32Array(3 * 640 * 640).fill(0.5))] });

/** HTTP requests the server is answering, not counting the scrape that asks. */
async function requestsInFlight(url: URL): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Number(/edgeinfer_backend_http_requests_in_flight (\d+)/.exec(text)?.[1] ?? 1) - 1;
}

describe('SIGTERM', () => {
  it('answers every request in flight and queued with 200, then exits 0 within 10 s', async () => {
    const backend = await spawnBackend({ EDGE_SIGNATURE_REQUIRED: 'false', BATCHING: 'false', INTRA_OP_THREADS: '1' });
    onTestFinished(() => {
      if (backend.child.exitCode === null) backend.child.kill('SIGKILL');
    });
    const requests = 5;
    const responses = Array.from({ length: requests }, () =>
      fetch(new URL('/v2/models/paddleocr-det/infer', backend.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: detBody,
      }),
    );
    while ((await requestsInFlight(backend.url)) < requests) await new Promise((resolve) => setTimeout(resolve, 10));

    const signalled = performance.now();
    backend.child.kill('SIGTERM');
    const answered = await Promise.all(responses);
    expect(answered.map((r) => r.status)).toEqual(new Array(requests).fill(200));
    await Promise.all(answered.map((r) => r.arrayBuffer()));
    expect(await backend.exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(10_000);
    expect(backend.output.join('\n')).toMatch(/shutdown complete/);
  });

  it('exits with a message naming the variable when the configuration is bad', async () => {
    await expect(spawnBackend({ PORT: 'eighty', EDGE_SIGNATURE_REQUIRED: 'false' })).rejects.toThrow(/exited with 2[\s\S]*PORT:/);
  });
});
