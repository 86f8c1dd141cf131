// Bad task input through the edge, as a public caller would send it: each gets its 4xx with a JSON
// error before any model runs, and no body at all, however arbitrary, gets a 5xx from either tier.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { encode as encodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocrTask, vadTask } from '../../models/tasks/catalog.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { generateSpeech, type SpeechRecording } from '../support/speech.ts';

let backend: StartedBackend;
let edge: RunningWorker;
let speech: SpeechRecording;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'edgeinfer-bad-'));
  speech = generateSpeech(['Hello there.'], [], 0.2);
  backend = await startTestBackend();
  edge = await startEdgeWorker({
    vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret, RATE_LIMIT_PRO: '100000', RATE_LIMIT_FREE: '100000' },
  });
});
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

const post = (path: string, body: Uint8Array | string, contentType: string) =>
  edge.fetch(path, { method: 'POST', headers: { 'content-type': contentType }, body: body as BodyInit });

async function expectError(res: Response, status: number, message: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await res.json()) as { error: string };
  expect(body.error).toMatch(message);
}

/** `seconds` of silence as a WAV that sox writes with these output format options. */
function soxWav(name: string, format: string[], seconds: number): Uint8Array {
  const path = join(workDir, name);
  execFileSync('sox', ['-n', ...format, path, 'trim', '0', String(seconds)]);
  return new Uint8Array(readFileSync(path));
}

function withUint32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value, true);
  return copy;
}

describe('bad input to /v1/vad', () => {
  it('refuses an empty body with 400', async () => {
    await expectError(await post('/v1/vad', new Uint8Array(0), 'audio/wav'), 400, /empty/);
  });

  it('refuses a truncated header and a header whose sizes lie, with 400', async () => {
    await expectError(await post('/v1/vad', speech.pcm16Mono22k.slice(0, 30), 'audio/wav'), 400, /./);
    // The fmt chunk claims to run far past the end of the file.
    await expectError(await post('/v1/vad', withUint32(speech.pcm16Mono22k, 16, 1 << 30), 'audio/wav'), 400, /./);
  });

  it('refuses an encoding other than 16-bit PCM or 32-bit float with 415, naming both', async () => {
    const mulaw = soxWav('mulaw.wav', ['-r', '8000', '-c', '1', '-e', 'mu-law', '-b', '8'], 1);
    await expectError(await post('/v1/vad', mulaw, 'audio/wav'), 415, /16-bit|float/i);
    const pcm24 = soxWav('pcm24.wav', ['-r', '16000', '-c', '1', '-e', 'signed-integer', '-b', '24'], 1);
    await expectError(await post('/v1/vad', pcm24, 'audio/wav'), 415, /24/);
  });

  it('refuses audio longer than the limit with 413, from its header', async () => {
    const seconds = vadTask.limits.maxAudioSeconds + 1;
    const long = soxWav('long.wav', ['-r', '8000', '-c', '1', '-e', 'signed-integer', '-b', '16'], seconds);
    await expectError(await post('/v1/vad', long, 'audio/wav'), 413, new RegExp(String(vadTask.limits.maxAudioSeconds)));
  });

  it('refuses a batch over its limit with 413, and bad base64 with 400', async () => {
    const files = Array.from({ length: vadTask.limits.maxBatchFiles + 1 }, () => Buffer.from(speech.pcm16Mono22k).toString('base64'));
    await expectError(await post('/v1/vad', JSON.stringify({ files }), 'application/json'), 413, /at most/);
    await expectError(await post('/v1/vad', JSON.stringify({ file: 'not base64 at all!' }), 'application/json'), 400, /base64/);
  });

  it('refuses a content type it does not take with 415, naming those it does', async () => {
    await expectError(await post('/v1/vad', speech.pcm16Mono22k, 'audio/mpeg'), 415, /audio\/wav/);
  });
});

describe('bad input to /v1/ocr', () => {
  const tinyPng = encodePng({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(255), channels: 3, depth: 8 });

  it('refuses bytes that are not an image with 400, saying what is accepted', async () => {
    await expectError(await post('/v1/ocr', new TextEncoder().encode('hello, not an image'), 'image/png'), 400, /PNG or JPEG/);
    await expectError(await post('/v1/ocr', new Uint8Array(0), 'image/png'), 400, /empty/);
  });

  it('refuses an image whose header declares more pixels than the limit with 413, before decoding', async () => {
    const bomb = tinyPng.slice(0, 33);
    new DataView(bomb.buffer).setUint32(16, 100_000);
    new DataView(bomb.buffer).setUint32(20, 100_000);
    await expectError(await post('/v1/ocr', bomb, 'image/png'), 413, new RegExp(String(ocrTask.limits.maxPixels)));
  });

  it('refuses a truncated image with 400 from the tier that decodes it', async () => {
    await expectError(await post('/v1/ocr', tinyPng.slice(0, tinyPng.length - 20), 'image/png'), 400, /./);
  });
});

describe('arbitrary bytes', () => {
  it('never get a 5xx, and every error is JSON', async () => {
    const riff = speech.pcm16Mono22k.slice(0, 64);
    const png = encodePng({ width: 4, height: 4, data: new Uint8Array(48), channels: 3, depth: 8 });
    const mutated = (seed: Uint8Array) =>
      fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(seed.length)).map(([at, value, cut]) => {
        const copy = seed.slice(0, Math.max(cut, 1));
        if (at < copy.length) copy[at] = value;
        return copy;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated(riff), mutated(png)),
        fc.constantFrom(['/v1/vad', 'audio/wav'], ['/v1/ocr', 'image/png'], ['/v1/ocr', 'image/jpeg'], ['/v1/vad', 'application/json']),
        async (body, [path, type]) => {
          const res = await post(path!, body, type!);
          expect(res.status).toBeLessThan(500);
          if (res.status !== 200) expect(((await res.json()) as { error: unknown }).error).toEqual(expect.any(String));
          else await res.arrayBuffer();
        },
      ),
      { numRuns: 60 },
    );
  });
});
