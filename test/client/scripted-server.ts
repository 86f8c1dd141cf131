// A real HTTP server on loopback that answers from a script, one step per request, and records what
// arrived and when (by its own clock), so tests measure a client's waits where the requests land.

import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() when the request's headers arrived. */
  atMs: number;
  /** Date.now() then, to compare with an HTTP date. */
  wallMs: number;
}

/** One answer: a status with headers and a JSON or text body, or 'hang' (never answer), or 'drop' (close the connection). */
export type Step = { status: number; headers?: Record<string, string>; json?: unknown; text?: string } | 'hang' | 'drop';

export interface ScriptedServer {
  url: string;
  received: ReceivedRequest[];
  /** Sets the answers for the next requests, in order; past the end the last one repeats. */
  script(steps: Step[]): void;
  stop(): Promise<void>;
}

function answer(res: ServerResponse, step: Exclude<Step, 'hang' | 'drop'>): void {
  const body = step.json !== undefined ? JSON.stringify(step.json) : (step.text ?? '');
  res.writeHead(step.status, { 'content-type': step.json !== undefined ? 'application/json' : 'text/plain', ...step.headers });
  res.end(body);
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const received: ReceivedRequest[] = [];
  let steps: Step[] = [];
  const server = createServer((req, res) => {
    const atMs = performance.now();
    const wallMs = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: new URL(req.url!, 'http://localhost'),
        headers: req.headers,
        body: Buffer.concat(chunks),
        atMs,
        wallMs,
      });
      const step = steps[Math.min(received.length - 1, steps.length - 1)] ?? { status: 500, text: 'no script' };
      if (step === 'hang') return;
      if (step === 'drop') return void req.socket.destroy();
      answer(res, step);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script(next) {
      steps = next;
      received.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
