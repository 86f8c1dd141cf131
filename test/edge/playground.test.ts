// The playground page in a real headless Chromium against the real edge (workerd) and backend: a
// user types the key, picks a recording or an image (or records from a microphone fed with speech),
// and sees the answer drawn, the tier, the models and the curl command; under a strict CSP, with no
// request leaving the page's origin and no violation reported.

import { ocrTask } from '../../models/tasks/catalog.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type StartedBackend, testSigningSecret } from '../support/backend.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { type Renderer, textRenderer } from '../support/render-text.ts';
import { generateSpeech, type SpeechRecording } from '../support/speech.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const expectedPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let backend: StartedBackend;
let edge: RunningWorker;
let browser: Browser;
let speech: SpeechRecording;
let renderer: Renderer;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'edgeinfer-playground-'));
  speech = generateSpeech();
  // The fake microphone plays this file on a loop.
  writeFileSync(join(workDir, 'microphone.wav'), speech.pcm16Mono22k);
  renderer = await textRenderer();
  backend = await startTestBackend();
  edge = await startEdgeWorker({ vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret } });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${join(workDir, 'microphone.wav')}`,
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  await backend?.stop();
  await renderer?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface OpenedPage {
  page: Page;
  /** Every URL the page requested. */
  requests: string[];
  consoleErrors: string[];
  /** CSP violations the page reported (securitypolicyviolation events). */
  violations: () => Promise<string[]>;
}

let context: BrowserContext | undefined;
afterEach(() => context?.close());

async function openPlayground(): Promise<OpenedPage> {
  context = await browser.newContext();
  const page = await context.newPage();
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  // Injected by the browser's debugging protocol, so the page's own CSP does not apply to it.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} ${event.blockedURI}`));
  });
  const response = await page.goto(new URL('/', edge.url).href);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toBe(expectedPolicy);
  return {
    page,
    requests,
    consoleErrors,
    violations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
  };
}

/** Nothing left the origin (the files shown are blob: URLs of the page's own), no CSP violation, no error. */
async function expectSelfContained(opened: OpenedPage): Promise<void> {
  const outside = opened.requests.filter(
    (url) => !url.startsWith('blob:') && !url.startsWith('data:') && new URL(url).origin !== edge.url.origin,
  );
  expect(outside).toEqual([]);
  expect(await opened.violations()).toEqual([]);
  expect(opened.consoleErrors.filter((text) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(text))).toEqual(
    [],
  );
}

/** `0.47 s – 2.95 s` per listed segment, as milliseconds. */
async function listedSegments(page: Page): Promise<{ startMs: number; endMs: number }[]> {
  return (await page.locator('#segments li').allTextContents()).map((text) => {
    const [start, end] = text.split('–').map((part) => Number.parseFloat(part) * 1000);
    return { startMs: start!, endMs: end! };
  });
}

/** The RGBA of the canvas at its top row, `fraction` of the way across. */
function topPixel(page: Page, fraction: number): Promise<number[]> {
  return page.evaluate((at) => {
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    return [...canvas.getContext('2d')!.getImageData(Math.floor(at * canvas.width), 1, 1, 1).data];
  }, fraction);
}

const background = [250, 250, 250, 255];
/** How long an answer may take: the first inference compiles the model, and CI machines are busy. */
const answered = { timeout: 30_000 };

describe('playground files', () => {
  it('serves the page and its files with their types and an ETag, answers a matching If-None-Match with 304, and nothing else', async () => {
    const paths = [
      '/',
      '/playground/playground.js',
      '/playground/playground.css',
      '/playground/wav.js',
      '/playground/draw.js',
      '/playground/curl.js',
      '/playground/samples/speech-16k.wav',
      '/playground/samples/invoice.png',
    ];
    for (const path of paths) {
      const res = await edge.fetchWithoutCredentials(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(
        path === '/'
          ? /^text\/html/
          : path.endsWith('.css')
            ? /^text\/css/
            : path.endsWith('.wav')
              ? /^audio\/wav/
              : path.endsWith('.png')
                ? /^image\/png/
                : /^text\/javascript/,
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      await res.arrayBuffer();
      const again = await edge.fetchWithoutCredentials(path, { headers: { 'if-none-match': etag } });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
    }
    for (const path of ['/index.html', '/playground/', '/playground/raw-imports.d.ts', '/playground/nope.js']) {
      const res = await edge.fetchWithoutCredentials(path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: expect.stringMatching(/^no route/) });
    }
    // The API's own pages at the root are untouched, each under its own policy.
    expect((await edge.fetchWithoutCredentials('/docs')).headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; style-src 'unsafe-inline'/,
    );
    expect((await edge.fetchWithoutCredentials('/openapi.json')).status).toBe(200);
  });
});

describe('playground', () => {
  it('shows the speech segments of a WAV it is given, drawn on the waveform, with the tier, models and curl command', async () => {
    const opened = await openPlayground();
    const { page } = opened;
    await page.fill('#api-key', edge.key.apiKey);
    await page.setInputFiles('#file', { name: 'three phrases.wav', mimeType: 'audio/wav', buffer: Buffer.from(speech.pcm16Mono22k) });

    await expect.poll(() => page.locator('#tier').textContent(), answered).toBe('edge');
    expect(await page.locator('#models').textContent()).toMatch(/^silero-vad v\d+/);
    expect(await page.locator('#request-id').textContent()).toBeTruthy();
    expect(await page.locator('#audio-summary').textContent()).toContain('22050 Hz');

    const segments = await listedSegments(page);
    expect(segments.length).toBeGreaterThanOrEqual(speech.phrases.length);
    for (const phrase of speech.phrases) expect(segments.some((s) => s.startMs < phrase.endMs && s.endMs > phrase.startMs)).toBe(true);
    for (const gap of speech.gaps) {
      const middle = (gap.startMs + gap.endMs) / 2;
      expect(segments.some((s) => s.startMs < middle && s.endMs > middle)).toBe(false);
    }
    // Drawn: shaded behind each phrase, bare in the middle of each silence.
    for (const phrase of speech.phrases)
      expect(await topPixel(page, (phrase.startMs + phrase.endMs) / 2 / speech.durationMs)).not.toEqual(background);
    for (const gap of speech.gaps) expect(await topPixel(page, (gap.startMs + gap.endMs) / 2 / speech.durationMs)).toEqual(background);

    const curl = await page.locator('#curl').textContent();
    expect(curl).toContain(`'${edge.url.origin}/v1/vad'`);
    expect(curl).toContain('"authorization: Bearer $EDGEINFER_API_KEY"');
    expect(curl).toContain("'content-type: audio/wav'");
    expect(curl).toContain("--data-binary @'three phrases.wav'");
    expect(curl).not.toContain(edge.key.apiKey);
    await expectSelfContained(opened);

    // The command works as shown, run by a shell where the file is, with the key in the variable.
    writeFileSync(join(workDir, 'three phrases.wav'), speech.pcm16Mono22k);
    const { stdout } = await promisify(execFile)('sh', ['-c', curl!], {
      cwd: workDir,
      env: { ...process.env, EDGEINFER_API_KEY: edge.key.apiKey },
    });
    const answer = JSON.parse(stdout) as { segments: { start_ms: number; end_ms: number }[] };
    expect(answer.segments.map((s) => [s.start_ms, s.end_ms])).toEqual(
      segments.map((s) => [expect.closeTo(s.startMs, -2), expect.closeTo(s.endMs, -2)]),
    );
  });

  it('keeps the key in this tab only, and sends a file chosen before the key once the key is typed', async () => {
    const opened = await openPlayground();
    const { page } = opened;
    await page.setInputFiles('#file', { name: 'stereo-float.wav', mimeType: 'audio/wav', buffer: Buffer.from(speech.float32Stereo44k) });
    await expect.poll(() => page.locator('#error').textContent(), answered).toBe('Enter an API key first.');
    await page.fill('#api-key', edge.key.apiKey);
    await page.locator('#api-key').blur();
    await expect.poll(() => page.locator('#tier').textContent(), answered).toBe('edge');
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('#audio-summary').textContent()).toContain('44100 Hz');

    await page.reload();
    expect(await page.inputValue('#api-key')).toBe(edge.key.apiKey);
    expect(await page.evaluate(() => [localStorage.length, document.cookie])).toEqual([0, '']);
    await expectSelfContained(opened);
  });

  it('records from the microphone, encodes the recording as WAV in the page and shows its speech', async () => {
    const opened = await openPlayground();
    const { page } = opened;
    await page.fill('#api-key', edge.key.apiKey);
    const sent = page.waitForRequest((request) => request.url().endsWith('/v1/vad'));
    await page.click('#record');
    await expect.poll(() => page.locator('#record').textContent(), answered).toBe('Stop and send');
    // A recording takes the time it records: long enough for the first phrase (0.5 s to ~3 s).
    await page.waitForTimeout(3500);
    await page.click('#record');

    const request = await sent;
    expect(request.headers()['content-type']).toBe('audio/wav');
    const body = request.postDataBuffer()!;
    expect([body.subarray(0, 4).toString(), body.subarray(8, 12).toString(), body.readUInt16LE(34), body.readUInt32LE(24)]).toEqual([
      'RIFF',
      'WAVE',
      16,
      16000,
    ]);
    await expect.poll(() => page.locator('#tier').textContent(), answered).toBe('edge');
    expect((await listedSegments(page)).length).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#curl').textContent()).toContain("--data-binary @'recording.wav'");
    await expectSelfContained(opened);
  });

  it('shows the text of a chosen or dropped image with its boxes drawn over it, the lines listed, and which tier read it', async () => {
    const lines = ['Hello playground', 'Edge inference 42'];
    const image = await renderer.render('playground', { lines, font: 'DejaVu-Sans', pointSize: 32, format: 'png' });
    const opened = await openPlayground();
    const { page } = opened;
    await page.fill('#api-key', edge.key.apiKey);
    await page.setInputFiles('#file', { name: 'text.png', mimeType: 'image/png', buffer: Buffer.from(image.bytes) });

    // A small image is read at the edge, a larger one by the backend (the OCR task's edge threshold).
    const pixels = Buffer.from(image.bytes).readUInt32BE(16) * Buffer.from(image.bytes).readUInt32BE(20);
    await expect.poll(() => page.locator('#tier').textContent(), answered).toBe(pixels <= ocrTask.routing!.edgeMaxPixels ? 'edge' : 'gpu');
    expect(await page.locator('#models').textContent()).toMatch(/paddleocr-det v[\w.-]+.*paddleocr-rec v[\w.-]+/);
    expect(await page.locator('#lines .line-text').allTextContents()).toEqual(lines);
    expect(await page.locator('#curl').textContent()).toContain("'content-type: image/png'");

    // The canvas holds the image at its size with a red outline at each line's first corner.
    const corners = await page.evaluate(async () => {
      const canvas = document.getElementById('canvas') as HTMLCanvasElement;
      return { width: canvas.width, height: canvas.height };
    });
    const png = Buffer.from(image.bytes);
    expect(corners).toEqual({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });
    const outlined = await page.evaluate(() => {
      const canvas = document.getElementById('canvas') as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let red = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! > 180 && pixels[i + 1]! < 90 && pixels[i + 2]! < 90) red++;
      return red;
    });
    expect(outlined).toBeGreaterThan(100);

    // Dropped on the page instead of chosen: a JPEG this time.
    const jpeg = await renderer.render('dropped', { lines: ['Dropped here'], font: 'Liberation-Serif', pointSize: 36, format: 'jpeg' });
    const dataTransfer = await page.evaluateHandle(
      (bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], 'dropped.jpg', { type: 'image/jpeg' }));
        return transfer;
      },
      [...jpeg.bytes],
    );
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
    await expect.poll(() => page.locator('#lines .line-text').allTextContents(), answered).toEqual(['Dropped here']);
    expect(await page.locator('#curl').textContent()).toContain("'content-type: image/jpeg'");
    expect(await page.locator('#curl').textContent()).toContain("--data-binary @'dropped.jpg'");
    await expectSelfContained(opened);
  });

  it('shows an error the API answers, with its status and request id', async () => {
    const opened = await openPlayground();
    const { page } = opened;
    await page.fill('#api-key', 'ei_live_not-a-real-key');
    await page.setInputFiles('#file', { name: 'speech.wav', mimeType: 'audio/wav', buffer: Buffer.from(speech.pcm16Mono16k) });
    await expect.poll(() => page.locator('#error').textContent(), answered).toMatch(/^401 Unauthorized: .+ \[request .+\]$/);
    expect(await page.locator('#result').isHidden()).toBe(true);

    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not audio') });
    await expect.poll(() => page.locator('#error').textContent()).toBe('notes.txt: not a WAV, other audio, PNG or JPEG file');
    await expectSelfContained(opened);
  });

  it('clears the previous result when the next request is refused (401)', async () => {
    const opened = await openPlayground();
    const { page } = opened;
    await page.fill('#api-key', edge.key.apiKey);
    await page.setInputFiles('#file', { name: 'speech.wav', mimeType: 'audio/wav', buffer: Buffer.from(speech.pcm16Mono16k) });
    await expect.poll(() => page.locator('#result').isVisible(), answered).toBe(true);
    await page.fill('#api-key', 'ei_live_not-a-real-key');
    await page.setInputFiles('#file', { name: 'speech.wav', mimeType: 'audio/wav', buffer: Buffer.from(speech.pcm16Mono16k) });
    await expect.poll(() => page.locator('#error').textContent(), answered).toMatch(/^401 Unauthorized/);
    expect(await page.locator('#result').isHidden()).toBe(true);
    await expectSelfContained(opened);
  });

  it('says where a key comes from, and runs the samples it serves: where each ran and on what', async () => {
    const opened = await openPlayground();
    const { page } = opened;
    expect(await page.locator('#key-source').textContent()).toMatch(/npm start[\s\S]*npm run keys -- create/);
    await page.fill('#api-key', edge.key.apiKey);
    await page.click('#sample-speech');
    await expect.poll(() => page.locator('#segments li').count(), answered).toBeGreaterThan(0);
    expect(await page.locator('#tier').textContent()).toBe('edge');
    expect(await page.locator('#provider').textContent()).toBe('wasm');
    await page.click('#sample-invoice');
    await expect.poll(() => page.locator('#lines .line-text').count(), answered).toBeGreaterThan(0);
    // The invoice is larger than the edge's OCR threshold: the backend read it, on its CPU provider here.
    expect(await page.locator('#tier').textContent()).toBe('gpu');
    expect(await page.locator('#provider').textContent()).toBe('cpu');
    await expectSelfContained(opened);
  });

  it('enforces its CSP: an inline style is refused and reported', async () => {
    const opened = await openPlayground();
    await opened.page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<p style="color: red">injected</p>'));
    await expect.poll(opened.violations).toEqual([expect.stringMatching(/^style-src-attr /)]);
  });
});
