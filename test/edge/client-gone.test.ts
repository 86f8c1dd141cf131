// A client that goes away while the edge reads its request body, against the real Worker over a raw
// socket: the edge logs it as a client gone (status 499 in the request log), never as an unexpected 500.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';

let edge: RunningWorker;

/** Sends the head of a request promising `declared` bytes, then part of the body, then drops the connection. */
async function sendAndHangUp(path: string, contentType: string, requestId: string, part: string): Promise<void> {
  const socket = connect(Number(edge.url.port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const head = [
    `POST ${path} HTTP/1.1`,
    `host: ${edge.url.host}`,
    `authorization: Bearer ${edge.key.apiKey}`,
    `content-type: ${contentType}`,
    `x-request-id: ${requestId}`,
    'content-length: 1000000',
  ];
  await new Promise((resolve) => socket.write(`${head.join('\r\n')}\r\n\r\n${part}`, resolve));
  socket.destroy();
}

// One Worker per case: in this harness a second dropped connection in the same wrangler session left
// no log line at all (seen once, not explained: wrangler's local proxy sits in front of the Worker).
describe.each([
  { path: '/v1/vad', contentType: 'audio/wav', part: 'RIFF' },
  { path: '/v2/models/silero-vad/infer', contentType: 'application/json', part: '{"inputs":[' },
])('a client gone away at $path', ({ path, contentType, part }) => {
  beforeAll(async () => {
    edge = await startEdgeWorker();
  });
  afterAll(() => edge?.stop());

  it('is logged as such, not as an unexpected error', async () => {
    const requestId = `gone-${path.replaceAll('/', '-')}`;
    await sendAndHangUp(path, contentType, requestId, part);
    const requestLine = () => edge.logs.find((line) => line.includes('"event":"request"') && line.includes(requestId));
    await vi.waitFor(() => expect(requestLine(), edge.logs.join('\n')).toBeDefined(), { timeout: 10_000, interval: 50 });
    expect(JSON.parse(requestLine()!)).toMatchObject({ status: 499, path });
    const gone = edge.logs.filter((line) => line.includes('"event":"client-gone"') && line.includes(requestId));
    expect(gone).toHaveLength(1);
    expect(edge.logs.filter((line) => line.includes('unexpected-error'))).toEqual([]);
  });
});
