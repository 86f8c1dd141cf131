import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIncomingWithLimit } from '../../gpu-backend/incoming-body.ts';
import { HttpError } from '../../protocol/errors.ts';

const maxBytes = 1_000_000;

/** Sends `chunks` (chunked transfer encoding unless `contentLength` is given) and returns what the server read. */
function send(server: Server, chunks: Uint8Array[], contentLength?: number): Promise<{ status: number; body: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request(
      { port, host: '127.0.0.1', method: 'POST', headers: contentLength === undefined ? {} : { 'content-length': String(contentLength) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('readIncomingWithLimit', () => {
  let server: Server;
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      try {
        const body = await readIncomingWithLimit(req, maxBytes);
        let sum = 0;
        for (const byte of body) sum = (sum + byte) % 65_521;
        res.end(JSON.stringify({ length: body.length, sum }));
      } catch (err) {
        res.statusCode = err instanceof HttpError ? err.status : 500;
        res.end((err as Error).message);
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(() => server.close());

  const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 251);
  const checksum = (parts: Uint8Array[]) => parts.flatMap((part) => [...part]).reduce((sum, byte) => (sum + byte) % 65_521, 0);

  it('reads a body of declared length, sent in several chunks, byte for byte', async () => {
    const parts = [bytes(70_000, 1), bytes(1, 2), bytes(300_000, 3)];
    const res = await send(server, parts, 370_001);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ length: 370_001, sum: checksum(parts) });
  });

  it('reads a chunked body without Content-Length', async () => {
    const parts = [bytes(5, 4), bytes(200_000, 5)];
    const res = await send(server, parts);
    expect(JSON.parse(res.body)).toEqual({ length: 200_005, sum: checksum(parts) });
  });

  it('reads an empty body', async () => {
    expect(JSON.parse((await send(server, [], 0)).body)).toEqual({ length: 0, sum: 0 });
  });

  it('refuses a Content-Length past the limit with 413 before reading the body', async () => {
    const res = await send(server, [bytes(maxBytes + 1, 6)], maxBytes + 1);
    expect(res.status).toBe(413);
    expect(res.body).toMatch(/limit of 1000000 bytes/);
  });

  it('refuses a chunked body with 413 once it passes the limit', async () => {
    const res = await send(server, [bytes(600_000, 7), bytes(600_000, 8)]);
    expect(res.status).toBe(413);
  });
});
