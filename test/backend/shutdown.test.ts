import { describe, expect, it, onTestFinished } from 'vitest';
import { metricsAuthorization, spawnBackend } from '../support/backend.ts';
import { tensor } from '../support/infer.ts';

// 640×640 detector runs on one thread take long enough that requests are still queued or reading
// their bodies when SIGTERM arrives; batching is off so that each of them is a separate run to finish.
const tileBody = JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 320, 320], new Float32Array(3 * 320 * 320).fill(0.5))] });
const detBody = JSON.stringify({ inputs: [tensor('x', 'FP32', [1, 3, 640, 640], new Float32Array(3 * 640 * 640).fill(0.5))] });

/** HTTP requests the server is answering, not counting the scrape that asks. */
async function requestsInFlight(url: URL): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url), { headers: metricsAuthorization })).text();
  return Number(/edgeinfer_backend_http_requests_in_flight (\d+)/.exec(text)?.[1] ?? 1) - 1;
}

describe('SIGTERM', () => {
  // The grace period is long enough for the work on any machine, so every answer is a 200; what happens
  // to work that does not fit in it is the next test's (on Cloud Run the cut comes at 8 s of 10).
  it('answers every request in flight and queued with 200 when the grace period allows, then exits 0', { timeout: 180_000 }, async () => {
    const backend = await spawnBackend({
      EDGE_SIGNATURE_REQUIRED: 'false',
      BATCHING: 'false',
      INTRA_OP_THREADS: '1',
      SHUTDOWN_TIMEOUT_MS: '60000',
    });
    onTestFinished(() => {
      if (backend.child.exitCode === null) backend.child.kill('SIGKILL');
    });
    const requests = 5;
    let settled = 0;
    const responses = Array.from({ length: requests }, () =>
      fetch(new URL('/v2/models/paddleocr-det/infer', backend.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: detBody,
      }).finally(() => settled++),
    );
    // Every request has reached the server (the first may already be answered on a fast machine).
    while ((await requestsInFlight(backend.url)) + settled < requests) await new Promise((resolve) => setTimeout(resolve, 10));

    backend.child.kill('SIGTERM');
    const answered = await Promise.all(responses);
    expect(answered.map((r) => r.status)).toEqual(new Array(requests).fill(200));
    await Promise.all(answered.map((r) => r.arrayBuffer()));
    expect(await backend.exited).toBe(0);
    expect(backend.output.join('\n')).toMatch(/shutdown complete/);
  });

  it('answers every request 200 or 503 with Retry-After when the queue holds more work than the grace period, and none is reset', {
    timeout: 180_000,
  }, async () => {
    // 32 detector runs on one thread take seconds; the grace period is 1 s.
    const backend = await spawnBackend({
      EDGE_SIGNATURE_REQUIRED: 'false',
      BATCHING: 'false',
      INTRA_OP_THREADS: '1',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    onTestFinished(() => {
      if (backend.child.exitCode === null) backend.child.kill('SIGKILL');
    });
    const requests = 32;
    let settled = 0;
    const outcomes = Array.from({ length: requests }, () =>
      fetch(new URL('/v2/models/paddleocr-det/infer', backend.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: tileBody,
      })
        .then(
          async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() }),
          (err: Error) => ({ status: 0, retryAfter: null, body: `no answer: ${(err.cause as Error)?.message ?? err.message}` }),
        )
        .finally(() => settled++),
    );
    // Every request has reached the server (the first ones may already be answered).
    while ((await requestsInFlight(backend.url)) + settled < requests) await new Promise((resolve) => setTimeout(resolve, 10));

    backend.child.kill('SIGTERM');
    const answered = await Promise.all(outcomes);
    for (const outcome of answered) {
      if (outcome.status === 200) continue;
      expect(outcome.status, outcome.body).toBe(503);
      expect(outcome.retryAfter).toBe('1');
      expect(JSON.parse(outcome.body).error).toMatch(/shutting down/);
    }
    expect(await backend.exited).toBe(0);
    const log = backend.output.join('\n');
    expect(log).toMatch(/shutdown complete/);
    const cut = answered.filter((outcome) => outcome.status === 503).length;
    if (cut > 0) expect(log).toContain(`answering them 503 with Retry-After`);
  });

  it('exits with a message naming the variable when the configuration is bad', async () => {
    await expect(spawnBackend({ PORT: 'eighty', EDGE_SIGNATURE_REQUIRED: 'false' })).rejects.toThrow(/exited with 2[\s\S]*PORT:/);
  });
});
