import { beforeAll, describe, expect, it } from 'vitest';
import { vadTask } from '../../../models/tasks/catalog.ts';
import type { NamedTensors, PipelineStage } from '../../../models/tasks/run-model.ts';
import { detectSpeech } from '../../../models/tasks/vad/index.ts';
import { frameAudio, speechProbabilities } from '../../../models/tasks/vad/silero.ts';
import { scanByRuns } from '../../../models/tasks/scan.ts';
import { decodeWav, inspectWav } from '../../../models/tasks/vad/wav.ts';
import { InvalidInput, PayloadTooLarge } from '../../../protocol/errors.ts';
import { type SpeechSegment, VadResult } from '../../../protocol/tasks.ts';
import { nativeRunModel } from '../../support/native-run-model.ts';
import { buildWav, generateSpeech, type Interval, type SpeechRecording } from '../../support/speech.ts';

const model = vadTask.models[0];
const { run } = nativeRunModel();
let speech: SpeechRecording;

beforeAll(() => {
  speech = generateSpeech();
});

/** Every phrase is covered: segments start by its start and end after its end (within `slackMs`), with little uncovered inside. */
function expectPhrasesCovered(segments: SpeechSegment[], phrases: Interval[], slackMs = 100): void {
  for (const phrase of phrases) {
    const overlapping = segments.filter((s) => s.end_ms > phrase.startMs && s.start_ms < phrase.endMs);
    expect(overlapping.length, `a segment over the phrase at ${phrase.startMs.toFixed(0)} ms`).toBeGreaterThan(0);
    expect(overlapping[0]!.start_ms).toBeLessThanOrEqual(phrase.startMs + slackMs);
    expect(overlapping.at(-1)!.end_ms).toBeGreaterThanOrEqual(phrase.endMs - slackMs);
    const covered = overlapping.reduce((sum, s) => sum + Math.min(s.end_ms, phrase.endMs) - Math.max(s.start_ms, phrase.startMs), 0);
    expect(covered / (phrase.endMs - phrase.startMs)).toBeGreaterThan(0.85);
  }
}

/** No segment reaches into the middle of a silence: its 250 ms at either end may hold padding. */
function expectSilencesClear(segments: SpeechSegment[], gaps: Interval[], marginMs = 250): void {
  for (const gap of gaps) {
    const middle = { start: gap.startMs + marginMs, end: gap.endMs - marginMs };
    for (const s of segments) {
      expect(
        s.end_ms <= middle.start || s.start_ms >= middle.end,
        `segment ${s.start_ms}-${s.end_ms} ms inside the silence ${gap.startMs.toFixed(0)}-${gap.endMs.toFixed(0)} ms`,
      ).toBe(true);
    }
  }
}

/** Two answers agree: the same segments, each boundary within `toleranceMs`. */
function expectAgreement(a: SpeechSegment[], b: SpeechSegment[], toleranceMs = 64): void {
  expect(a.length).toBe(b.length);
  a.forEach((segment, i) => {
    expect(Math.abs(segment.start_ms - b[i]!.start_ms)).toBeLessThanOrEqual(toleranceMs);
    expect(Math.abs(segment.end_ms - b[i]!.end_ms)).toBeLessThanOrEqual(toleranceMs);
  });
}

describe('detectSpeech on espeak-ng speech with known silences', () => {
  it('finds the phrases of 22.05 kHz 16-bit mono, and nothing in the middle of a silence', async () => {
    const result = VadResult.parse(await detectSpeech(speech.pcm16Mono22k, {}, run));
    expect(result.sample_rate).toBe(22050);
    expect(result.duration_ms).toBeCloseTo(speech.durationMs, 2);
    expectPhrasesCovered(result.segments, speech.phrases);
    expectSilencesClear(result.segments, speech.gaps);
    for (const s of result.segments) expect(s.end_ms).toBeLessThanOrEqual(result.duration_ms);
  });

  it('finds the same phrases in the 44.1 kHz stereo 32-bit float conversion', async () => {
    const mono = await detectSpeech(speech.pcm16Mono22k, {}, run);
    const stereo = await detectSpeech(speech.float32Stereo44k, {}, run);
    expect(inspectWav(speech.float32Stereo44k)).toMatchObject({ encoding: 'float32', channels: 2, sampleRate: 44100 });
    expect(stereo.sample_rate).toBe(44100);
    expectPhrasesCovered(stereo.segments, speech.phrases);
    expectSilencesClear(stereo.segments, speech.gaps);
    expectAgreement(stereo.segments, mono.segments);
  });

  it('agrees with the same speech resampled to 16 kHz by sox (our resampler against sox)', async () => {
    const ours = await detectSpeech(speech.pcm16Mono22k, {}, run);
    const sox = await detectSpeech(speech.pcm16Mono16k, {}, run);
    expect(sox.sample_rate).toBe(16000);
    // sox keeps more of 5.6-8 kHz than our filter does: a boundary may move by up to three frames.
    expectAgreement(ours.segments, sox.segments, 100);
  });

  it('applies per-request options over the reference defaults', async () => {
    const merged = await detectSpeech(speech.pcm16Mono22k, { min_silence_duration_ms: 2000 }, run);
    expect(merged.segments).toHaveLength(1);
    expect(merged.segments[0]!.start_ms).toBeLessThanOrEqual(speech.phrases[0]!.startMs + 100);
    const padded = await detectSpeech(speech.pcm16Mono22k, { speech_pad_ms: 200 }, run);
    const plain = await detectSpeech(speech.pcm16Mono22k, {}, run);
    expect(padded.segments[0]!.start_ms).toBeLessThan(plain.segments[0]!.start_ms - 150);
    expect(await detectSpeech(speech.pcm16Mono22k, { min_speech_duration_ms: 60_000 }, run)).toMatchObject({ segments: [] });
  });

  it('reports decode, preprocess and postprocess once each', async () => {
    const stages: PipelineStage[] = [];
    await detectSpeech(speech.pcm16Mono22k, {}, run, { timer: (stage, ms) => (expect(ms).toBeGreaterThanOrEqual(0), stages.push(stage)) });
    expect(stages).toEqual(['decode', 'preprocess', 'postprocess']);
  });
});

describe('speechProbabilities', () => {
  it('feeds the model as Silero’s wrapper does: 64 samples of context, state carried, last frame zero-padded', async () => {
    const info = inspectWav(speech.pcm16Mono16k);
    const samples = decodeWav(speech.pcm16Mono16k, info).subarray(0, 16000 * 3 + 123);
    const ours = await speechProbabilities(frameAudio(samples, 16000), scanByRuns(run), model);

    // The wrapper's way, written out: copy each chunk, pad it, prepend the last input's tail.
    const expected: number[] = [];
    let context = new Float32Array(64);
    let state = new Float32Array(2 * 128);
    for (let start = 0; start < samples.length; start += 512) {
      const chunk = new Float32Array(512);
      chunk.set(samples.subarray(start, Math.min(start + 512, samples.length)));
      const input = new Float32Array(576);
      input.set(context);
      input.set(chunk, 64);
      const outputs: NamedTensors = await run(model, {
        input: { datatype: 'FP32', shape: [1, 576], data: input },
        state: { datatype: 'FP32', shape: [2, 1, 128], data: state },
        sr: { datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
      });
      expected.push(outputs.output!.data[0] as number);
      state = Float32Array.from(outputs.stateN!.data as Float32Array);
      context = input.slice(-64);
    }
    expect(ours.length).toBe(Math.ceil((16000 * 3 + 123) / 512));
    expect([...ours]).toEqual(expected.map((p) => Math.fround(p)));
    expect(Math.max(...ours)).toBeGreaterThan(0.5);
  });
});

describe('detectSpeech refusals', () => {
  it('refuses a recording longer than the task limit with 413 before running the model', async () => {
    const seconds = vadTask.limits.maxAudioSeconds + 1;
    const bytes = buildWav({ sampleRate: 8000, data: new Uint8Array(seconds * 8000 * 2) });
    const stages: PipelineStage[] = [];
    let calls = 0;
    await expect(detectSpeech(bytes, {}, async () => (calls++, {}), { timer: (stage) => stages.push(stage) })).rejects.toBeInstanceOf(
      PayloadTooLarge,
    );
    expect(calls).toBe(0);
    expect(stages).toEqual(['decode']);
  });

  it('refuses bad options with 400 naming the field', async () => {
    const err = await detectSpeech(speech.pcm16Mono22k, { threshold: 2 }, run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as Error).message).toMatch(/threshold/);
    await expect(detectSpeech(speech.pcm16Mono22k, { speech_pad: 30 } as never, run)).rejects.toBeInstanceOf(InvalidInput);
  });

  it('answers no segments for an empty recording', async () => {
    expect(await detectSpeech(buildWav({ sampleRate: 44100 }), {}, run)).toEqual({ segments: [], duration_ms: 0, sample_rate: 44100 });
  });
});
