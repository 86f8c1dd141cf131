// The segment logic of Silero's reference `get_speech_timestamps` (snakers4/silero-vad,
// src/silero_vad/utils_vad.py), over per-frame speech probabilities: hysteresis between `threshold`
// and `neg_threshold`, silences shorter than `min_silence_duration_ms` bridged, speech shorter than
// `min_speech_duration_ms` dropped, over-long speech split at its longest silence, then padding.
// Ported decision for decision (including the reference's quirks) so its tuning advice holds here.

import type { VadOptions } from '../../../protocol/tasks.ts';

/** A speech segment in samples of the audio the probabilities were computed on. */
export interface SampleSegment {
  start: number;
  end: number;
}

export interface SegmentInput {
  /** One speech probability per frame, frame i covering samples [i × frameSamples, (i+1) × frameSamples). */
  probabilities: ArrayLike<number>;
  frameSamples: number;
  sampleRate: number;
  /** Samples of audio (the last frame may have been padded past it). */
  audioSamples: number;
}

/** The reference's `min_silence_at_max_speech`: silences at least this long are split candidates. */
const minSilenceAtMaxSpeechMs = 98;

export function speechSegments(input: SegmentInput, options: VadOptions): SampleSegment[] {
  const { probabilities, frameSamples, sampleRate, audioSamples } = input;
  const threshold = options.threshold;
  const negThreshold = options.neg_threshold ?? Math.max(threshold - 0.15, 0.01);
  const minSpeechSamples = (sampleRate * options.min_speech_duration_ms) / 1000;
  const speechPadSamples = (sampleRate * options.speech_pad_ms) / 1000;
  const maxSpeechSamples =
    options.max_speech_duration_s === undefined
      ? Infinity
      : sampleRate * options.max_speech_duration_s - frameSamples - 2 * speechPadSamples;
  const minSilenceSamples = (sampleRate * options.min_silence_duration_ms) / 1000;
  const minSilenceSamplesAtMaxSpeech = (sampleRate * minSilenceAtMaxSpeechMs) / 1000;

  const speeches: SampleSegment[] = [];
  let triggered = false;
  let currentStart: number | undefined; // the reference's `current_speech['start']`; undefined for `{}`
  let tempEnd = 0; // where a silence inside speech began; 0 for none, as in the reference
  let prevEnd = 0;
  let nextStart = 0;
  let possibleEnds: Array<{ end: number; silence: number }> = [];

  for (let i = 0; i < probabilities.length; i++) {
    const probability = probabilities[i]!;
    const sample = frameSamples * i;

    // Speech returns after a silence: remember that silence as a split candidate if long enough.
    if (probability >= threshold && tempEnd) {
      const silence = sample - tempEnd;
      if (silence > minSilenceSamplesAtMaxSpeech) possibleEnds.push({ end: tempEnd, silence });
      tempEnd = 0;
      if (nextStart < prevEnd) nextStart = sample;
    }

    if (probability >= threshold && !triggered) {
      triggered = true;
      currentStart = sample;
      continue;
    }

    // Over-long speech: end it at its longest silence (the reference's default,
    // use_max_poss_sil_at_max_speech), or cut it here when it had none.
    if (triggered && currentStart !== undefined && sample - currentStart > maxSpeechSamples) {
      if (possibleEnds.length > 0) {
        let longest = possibleEnds[0]!;
        for (const candidate of possibleEnds) if (candidate.silence > longest.silence) longest = candidate;
        prevEnd = longest.end;
        speeches.push({ start: currentStart, end: prevEnd });
        currentStart = undefined;
        nextStart = prevEnd + longest.silence;
        if (nextStart < prevEnd + sample) currentStart = nextStart;
        else triggered = false;
        prevEnd = nextStart = tempEnd = 0;
        possibleEnds = [];
      } else {
        speeches.push({ start: currentStart, end: sample });
        currentStart = undefined;
        prevEnd = nextStart = tempEnd = 0;
        triggered = false;
        possibleEnds = [];
        continue;
      }
    }

    // Silence inside speech: end the speech once it has lasted min_silence_duration_ms.
    if (probability < negThreshold && triggered) {
      if (!tempEnd) tempEnd = sample;
      if (sample - tempEnd < minSilenceSamples) continue;
      if (currentStart !== undefined && tempEnd - currentStart > minSpeechSamples) {
        speeches.push({ start: currentStart, end: tempEnd });
      }
      currentStart = undefined;
      prevEnd = nextStart = tempEnd = 0;
      triggered = false;
      possibleEnds = [];
    }
  }

  if (currentStart !== undefined && audioSamples - currentStart > minSpeechSamples) {
    speeches.push({ start: currentStart, end: audioSamples });
  }

  // Padding: each side by speech_pad_ms, or half the gap when two segments are closer than twice that.
  for (let i = 0; i < speeches.length; i++) {
    const speech = speeches[i]!;
    if (i === 0) speech.start = Math.trunc(Math.max(0, speech.start - speechPadSamples));
    const next = speeches[i + 1];
    if (next) {
      const silence = next.start - speech.end;
      if (silence < 2 * speechPadSamples) {
        speech.end += Math.floor(silence / 2);
        next.start = Math.trunc(Math.max(0, next.start - Math.floor(silence / 2)));
      } else {
        speech.end = Math.trunc(Math.min(audioSamples, speech.end + speechPadSamples));
        next.start = Math.trunc(Math.max(0, next.start - speechPadSamples));
      }
    } else {
      speech.end = Math.trunc(Math.min(audioSamples, speech.end + speechPadSamples));
    }
  }
  return speeches;
}
