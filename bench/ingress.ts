// `npm run bench:ingress`: what hostile uploads cost the GPU backend's memory. A real backend runs as a
// child process (`node gpu-backend/main.ts`, signatures required); for each case, 8 connections at once
// each try to upload 128 MiB to paddleocr-rec's infer route (its manifest allows 128 MiB bodies), and the
// child's resident memory (VmRSS) is printed before, at its peak during, and after. The goal is a peak
// within 100 MB of before: a refused body is refused before it is read, not after.
//
// Cases: no signature at all; a valid signature for a 1 KiB body sent with a 128 MiB Content-Length;
// the same signature with the 128 MiB streamed chunked (no Content-Length to refuse it by).

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { signRequest } from '../protocol/signature.ts';
import { spawnBackend, testSigningSecret } from '../test/support/backend.ts';
import { printTable } from './lib/stats.ts';

const connections = 8;
const uploadBytes = 128 * 1024 * 1024;
const chunk = new Uint8Array(1024 * 1024).fill(0x20);
const path = '/v2/models/paddleocr-rec/infer';
const mb = (bytes: number) => bytes / 1e6;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s*(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

interface Upload {
  status: number | string;
  /** Bytes the client had handed to the socket when the answer (or the end of the connection) came. */
  sentBeforeAnswer: number;
}

/** Streams `total` bytes (or until answered) with these headers; resolves with the answer's status. */
function upload(url: URL, headers: Record<string, string>, total: number): Promise<Upload> {
  return new Promise((resolve) => {
    let sent = 0;
    let settled = false;
    const finish = (status: number | string) => {
      if (settled) return;
      settled = true;
      resolve({ status, sentBeforeAnswer: sent });
      req.destroy();
    };
    const req = http.request(new URL(path, url), { method: 'POST', headers, agent: false }, (res) => {
      finish(res.statusCode!);
      res.resume();
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    const pump = () => {
      while (!settled && sent < total) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      if (!settled) req.end();
    };
    pump();
  });
}

async function measure(url: URL, pid: number, headers: () => Promise<Record<string, string>>) {
  const before = rssBytes(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
  const uploads = await Promise.all(Array.from({ length: connections }, async () => upload(url, await headers(), uploadBytes)));
  clearInterval(sampler);
  peak = Math.max(peak, rssBytes(pid));
  // What the process keeps once the uploads are over (the sampler above catches the transient peak).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = rssBytes(pid);
  return { before, peak, after, uploads };
}

const backend = await spawnBackend({ EDGE_SIGNING_SECRET: testSigningSecret, INTRA_OP_THREADS: '1' });
const pid = backend.child.pid!;
try {
  const small = new Uint8Array(1024).fill(0x20);
  const signedSmall = () => signRequest(testSigningSecret, 'POST', path, small, Date.now());
  const cases: [string, () => Promise<Record<string, string>>][] = [
    ['unsigned, Content-Length 128 MiB', async () => ({ 'content-type': 'application/json', 'content-length': String(uploadBytes) })],
    [
      'signed for 1 KiB, Content-Length 128 MiB',
      async () => ({ 'content-type': 'application/json', 'content-length': String(uploadBytes), ...(await signedSmall()) }),
    ],
    [
      'signed for 1 KiB, 128 MiB chunked',
      async () => ({ 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...(await signedSmall()) }),
    ],
  ];
  const rows: string[][] = [];
  for (const [name, headers] of cases) {
    const { before, peak, after, uploads } = await measure(backend.url, pid, headers);
    const statuses = [...new Set(uploads.map((u) => String(u.status)))].join(', ');
    const sentMiB = Math.max(...uploads.map((u) => u.sentBeforeAnswer)) / 2 ** 20;
    rows.push([
      name,
      statuses,
      sentMiB.toFixed(0),
      mb(before).toFixed(0),
      mb(peak).toFixed(0),
      mb(after).toFixed(0),
      `+${mb(peak - before).toFixed(0)}`,
      peak - before <= 100e6 ? 'yes' : 'NO',
    ]);
  }
  printTable(
    `Backend RSS (MB) under ${connections} concurrent 128 MiB uploads to ${path}`,
    ['case', 'answers', 'most MiB sent before the answer', 'before', 'peak', 'after', 'peak - before', 'within 100 MB'],
    rows,
  );
} finally {
  backend.child.kill('SIGTERM');
  await backend.exited;
}
