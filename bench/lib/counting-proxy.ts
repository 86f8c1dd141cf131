// A loopback HTTP proxy in front of the local Upstash REST endpoint that counts the round trips a
// client makes, by what they carry: rate-limit scripts, metering pipelines, anything else.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RoundTripKind = 'rate-limit' | 'metering' | 'other';

export interface CountingProxy {
  url: string;
  counts: Record<RoundTripKind, number>;
  reset(): void;
  stop(): Promise<void>;
}

function kindOf(path: string, body: string): RoundTripKind {
  // The usage store's writes are scripts too (protocol/usage-redis.ts): told apart by their keys.
  if (path.startsWith('/pipeline') && /usage-event:/.test(body)) return 'metering';
  if (/"(evalsha|eval)"/i.test(body)) return 'rate-limit';
  return 'other';
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const counts: Record<RoundTripKind, number> = { 'rate-limit': 0, metering: 0, other: 0 };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    counts[kindOf(req.url ?? '/', body.toString('utf8'))]++;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
    try {
      const upstream = await fetch(new URL(req.url ?? '/', target), {
        method: req.method,
        headers,
        body: req.method === 'GET' ? undefined : body,
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
        'content-length': answer.length,
      });
      res.end(answer);
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    reset() {
      for (const kind of Object.keys(counts) as RoundTripKind[]) counts[kind] = 0;
    },
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
