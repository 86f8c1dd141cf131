// /v1/vad through the gateway and across the tiers, on real speech: the edge runs it itself and says
// so; a recording past the edge's threshold goes to the backend in one hop; both tiers answer the
// same segments for the same file; the caller is charged by seconds of audio and metered by them.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VadBatchResponse, VadResponse } from '../../protocol/tasks.ts';
import { vadTask } from '../../models/tasks/catalog.ts';
import { parseServerTiming } from '../../models/tasks/timings.ts';
import { type StartedBackend, startTestBackend, testSigningSecret } from '../support/backend.ts';
import { seedApiKey } from '../support/api-keys.ts';
import { servedVersions } from '../support/serving.ts';
import { type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { generateSpeech, type SpeechRecording } from '../support/speech.ts';

let backend: StartedBackend;
let edge: RunningWorker;
let speech: SpeechRecording;

beforeAll(async () => {
  speech = generateSpeech();
  backend = await startTestBackend();
  edge = await startEdgeWorker({ vars: { BACKEND_URL: backend.url.origin, EDGE_SIGNING_SECRET: testSigningSecret } });
});
afterAll(async () => {
  await edge?.stop();
  await backend?.stop();
});

const wav = (bytes: Uint8Array, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'audio/wav', ...headers },
  body: bytes as Uint8Array<ArrayBuffer>,
});

/** Every phrase overlaps a segment, and no segment reaches into the middle of a gap. */
function expectSegmentsFollowSpeech(segments: { start_ms: number; end_ms: number }[], recording: SpeechRecording) {
  for (const phrase of recording.phrases) {
    expect(segments.some((s) => s.start_ms < phrase.endMs && s.end_ms > phrase.startMs)).toBe(true);
  }
  for (const gap of recording.gaps) {
    const middle = (gap.startMs + gap.endMs) / 2;
    expect(segments.some((s) => s.start_ms <= middle && s.end_ms >= middle)).toBe(false);
  }
}

/** `recording` with this much silence appended, by sox: long enough to pass the edge's threshold. */
function padded(recording: Uint8Array, seconds: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'edgeinfer-pad-'));
  try {
    writeFileSync(join(dir, 'in.wav'), recording);
    execFileSync('sox', [join(dir, 'in.wav'), join(dir, 'out.wav'), 'pad', '0', String(seconds)]);
    return new Uint8Array(readFileSync(join(dir, 'out.wav')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('POST /v1/vad', () => {
  it('runs at the edge and answers the speech segments, the model version and the tier', async () => {
    const res = await edge.fetch('/v1/vad', wav(speech.pcm16Mono22k, { 'x-request-id': 'vad-1' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('edge');
    expect(res.headers.get('x-request-id')).toBe('vad-1');
    const body = VadResponse.parse(await res.json());
    expect(body.models).toEqual(await servedVersions('edge', vadTask.models));
    expect(body.sample_rate).toBe(22050);
    expect(body.duration_ms).toBeCloseTo(speech.durationMs, 0);
    expectSegmentsFollowSpeech(body.segments, speech);
    // Where the time went, stage by stage and per model.
    const timing = parseServerTiming(res.headers.get('server-timing'));
    expect(Object.keys(timing)).toEqual(expect.arrayContaining(['decode', 'preprocess', 'postprocess', 'model-silero-vad', 'task']));
  });

  it('answers the same segments on the edge and on the backend for the same file', async () => {
    const fromEdge = VadResponse.parse(await (await edge.fetch('/v1/vad', wav(speech.float32Stereo44k))).json());
    const direct = await backend.signedRaw('/v1/vad', speech.float32Stereo44k, 'audio/wav');
    expect(direct.status).toBe(200);
    expect(direct.headers.get('x-edgeinfer-tier')).toBe('gpu');
    const fromBackend = VadResponse.parse(await direct.json());
    expect(fromBackend).toEqual(fromEdge);
    expectSegmentsFollowSpeech(fromEdge.segments, speech);
  });

  it('takes options from the query string with a raw body, and from JSON', async () => {
    const strict = VadResponse.parse(await (await edge.fetch('/v1/vad?min_speech_duration_ms=60000', wav(speech.pcm16Mono22k))).json());
    expect(strict.segments).toEqual([]);
    const json = await edge.fetch('/v1/vad', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file: Buffer.from(speech.pcm16Mono22k).toString('base64'), options: { min_speech_duration_ms: 60000 } }),
    });
    expect(VadResponse.parse(await json.json()).segments).toEqual([]);
  });

  it('answers a batch with one result per file, in order', async () => {
    // Two 16-bit recordings: the 44.1 kHz float stereo one, in base64, is over the edge's 4 MiB JSON limit.
    const files = [speech.pcm16Mono22k, speech.pcm16Mono16k].map((bytes) => Buffer.from(bytes).toString('base64'));
    const res = await edge.fetch('/v1/vad', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files }),
    });
    expect(res.status).toBe(200);
    const body = VadBatchResponse.parse(await res.json());
    expect(body.results.map((r) => r.sample_rate)).toEqual([22050, 16000]);
    for (const result of body.results) expectSegmentsFollowSpeech(result.segments, speech);
  });

  it('forwards a recording past the edge threshold to the backend in one hop, with its options', async () => {
    const thresholdSeconds = vadTask.routing!.edgeMaxAudioSeconds;
    const long = padded(speech.pcm16Mono22k, thresholdSeconds);
    const res = await edge.fetch('/v1/vad?speech_pad_ms=0', wav(long));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edgeinfer-tier')).toBe('gpu');
    const body = VadResponse.parse(await res.json());
    expect(body.duration_ms).toBeGreaterThan(thresholdSeconds * 1000);
    expectSegmentsFollowSpeech(body.segments, speech);
    const here = VadResponse.parse(await (await edge.fetch('/v1/vad?speech_pad_ms=0', wav(speech.pcm16Mono22k))).json());
    expect(body.segments).toEqual(here.segments);
  });

  it('charges the rate limit by seconds of audio: one unit per started workPerUnit', async () => {
    const fresh = await seedApiKey(edge.apiKeys, { plan: 'pro' });
    const long = padded(speech.pcm16Mono22k, 25);
    const res = await edge.fetch('/v1/vad', wav(long, { authorization: `Bearer ${fresh.apiKey}` }));
    expect(res.status).toBe(200);
    const durationMs = VadResponse.parse(await res.json()).duration_ms;
    const units = Math.ceil(durationMs / vadTask.units.workPerUnit);
    expect(units).toBeGreaterThan(1);
    expect(Number(res.headers.get('ratelimit-limit')) - Number(res.headers.get('ratelimit-remaining'))).toBe(units);
  });
});
