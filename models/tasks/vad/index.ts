// The voice-activity task: a WAV recording in, its speech segments out, in milliseconds of the
// recording as sent. Knows no tier: the model runs through the `run` it is given.

import { VadOptions, type VadOptionsInput, type VadResult } from '../../../protocol/tasks.ts';
import { InvalidInput } from '../../../protocol/errors.ts';
import { vadTask } from '../catalog.ts';
import { type RunModel, type ScanModel, type StageTimer, timed } from '../run-model.ts';
import { scanByRuns } from '../scan.ts';
import { modelSampleRate } from './resample.ts';
import { speechSegments } from './segments.ts';
import { frameAudio, frameSamples, speechProbabilities } from './silero.ts';
import { decodeWav, inspectWav } from './wav.ts';

export { decodeWav, inspectWav, type WavEncoding, type WavInfo } from './wav.ts';

export interface DetectSpeechSettings {
  timer?: StageTimer;
  /** Where the frames run as one scan (the backend's session thread); else one `run` per frame. */
  scan?: ScanModel | undefined;
}

/** Milliseconds at 16 kHz, to the microsecond: the model's sample grid is 1/16 ms. */
function toMs(samples16k: number): number {
  return Math.round((samples16k * 1_000_000) / modelSampleRate) / 1000;
}

/** Parses request options, naming the bad field: a 400 for the caller, not a zod stack. */
export function parseVadOptions(options: VadOptionsInput | VadOptions): VadOptions {
  const parsed = VadOptions.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`);
    throw new InvalidInput(`invalid VAD options: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Speech segments of a WAV recording (16-bit PCM or 32-bit float, any channel count, 8 to 48 kHz,
 * at most the task's `maxAudioSeconds`), by Silero VAD and the segment logic of Silero's
 * `get_speech_timestamps` with `options` over the reference's defaults.
 */
export async function detectSpeech(
  bytes: Uint8Array,
  options: VadOptionsInput | VadOptions,
  run: RunModel,
  settings: DetectSpeechSettings = {},
): Promise<VadResult> {
  const vadOptions = parseVadOptions(options);
  const { timer } = settings;
  const { info, mono } = await timed(timer, 'decode', () => {
    const info = inspectWav(bytes, vadTask.limits.maxAudioSeconds);
    return { info, mono: decodeWav(bytes, info) };
  });
  const audio = await timed(timer, 'preprocess', () => frameAudio(mono, info.sampleRate));
  const probabilities = await speechProbabilities(audio, settings.scan ?? scanByRuns(run), vadTask.models[0]);
  return timed(timer, 'postprocess', () => {
    const segments = speechSegments({ probabilities, frameSamples, sampleRate: modelSampleRate, audioSamples: audio.samples }, vadOptions);
    const durationMs = Math.round(info.durationMs * 1000) / 1000;
    return {
      segments: segments.map((segment) => ({
        start_ms: Math.min(toMs(segment.start), durationMs),
        end_ms: Math.min(toMs(segment.end), durationMs),
      })),
      duration_ms: durationMs,
      sample_rate: info.sampleRate,
    };
  });
}
