import { describe, expect, it } from 'vitest';
import { speechSegments } from '../../../models/tasks/vad/segments.ts';
import { VadOptions, type VadOptionsInput } from '../../../protocol/tasks.ts';

// Frames of 512 samples at 16 kHz: 32 ms each. Defaults: threshold 0.5 (neg 0.35), min speech 250 ms
// (4000 samples), min silence 100 ms (1600 samples), pad 30 ms (480 samples).
const frame = 512;

/** Probabilities from runs: [probability, frames], ... */
function runs(...parts: Array<[number, number]>): number[] {
  return parts.flatMap(([p, n]) => new Array<number>(n).fill(p));
}

function segments(probabilities: number[], options: VadOptionsInput = {}) {
  return speechSegments(
    { probabilities, frameSamples: frame, sampleRate: 16000, audioSamples: probabilities.length * frame },
    VadOptions.parse(options),
  );
}

describe('speechSegments (get_speech_timestamps)', () => {
  it('finds one segment, ended where the silence began, padded by speech_pad_ms', () => {
    // Speech from frame 10; silence from frame 30 ends it once 100 ms long (frame 34).
    expect(segments(runs([0, 10], [0.9, 20], [0, 10]))).toEqual([{ start: 10 * frame - 480, end: 30 * frame + 480 }]);
  });

  it('finds nothing in silence or below the threshold', () => {
    expect(segments(runs([0, 50]))).toEqual([]);
    expect(segments(runs([0.49, 50]))).toEqual([]);
  });

  it('drops speech not longer than min_speech_duration_ms', () => {
    // 7 frames = 3584 samples ≤ 4000: dropped; 8 frames = 4096 > 4000: kept.
    expect(segments(runs([0, 5], [0.9, 7], [0, 10]))).toEqual([]);
    expect(segments(runs([0, 5], [0.9, 8], [0, 10]))).toHaveLength(1);
    expect(segments(runs([0, 5], [0.9, 7], [0, 10]), { min_speech_duration_ms: 200 })).toHaveLength(1);
  });

  it('bridges silences shorter than min_silence_duration_ms', () => {
    // 3 silent frames (96 ms) do not end the speech; 5 (160 ms) do.
    expect(segments(runs([0, 5], [0.9, 10], [0, 3], [0.9, 10], [0, 10]))).toEqual([{ start: 5 * frame - 480, end: 28 * frame + 480 }]);
    expect(segments(runs([0, 5], [0.9, 10], [0, 5], [0.9, 10], [0, 10]))).toHaveLength(2);
    expect(segments(runs([0, 5], [0.9, 10], [0, 5], [0.9, 10], [0, 10]), { min_silence_duration_ms: 200 })).toHaveLength(1);
  });

  it('stays in speech between neg_threshold and threshold (hysteresis)', () => {
    const probabilities = runs([0, 5], [0.9, 10], [0.4, 20], [0.9, 10], [0, 10]);
    expect(segments(probabilities)).toHaveLength(1);
    // With neg_threshold above 0.4, the 0.4 stretch is silence and splits it.
    expect(segments(probabilities, { neg_threshold: 0.45 })).toHaveLength(2);
    // A probability between the two never starts speech.
    expect(segments(runs([0.4, 40]))).toEqual([]);
  });

  it('derives neg_threshold as max(threshold - 0.15, 0.01)', () => {
    // threshold 0.1 → neg 0.01: 0.02 is not silence, so the speech runs to the end of the audio.
    expect(segments(runs([0, 5], [0.5, 10], [0.02, 20]), { threshold: 0.1 })).toEqual([{ start: 5 * frame - 480, end: 35 * frame }]);
  });

  it('pads by speech_pad_ms, or splits a gap shorter than twice the padding between its neighbours', () => {
    // Pad 100 ms (1600 samples); the gap of 6 frames (3072 samples) < 3200: each side gets half.
    const result = segments(runs([0, 10], [0.9, 10], [0, 6], [0.9, 10], [0, 10]), { speech_pad_ms: 100, min_silence_duration_ms: 150 });
    expect(result).toEqual([
      { start: 10 * frame - 1600, end: 20 * frame + 1536 },
      { start: 26 * frame - 1536, end: 36 * frame + 1600 },
    ]);
  });

  it('clamps padding to the audio: from 0, to its last sample', () => {
    const probabilities = runs([0.9, 20]);
    const result = speechSegments(
      { probabilities, frameSamples: frame, sampleRate: 16000, audioSamples: 20 * frame - 100 },
      VadOptions.parse({}),
    );
    expect(result).toEqual([{ start: 0, end: 20 * frame - 100 }]);
  });

  it('splits speech longer than max_speech_duration_s at its longest silence', () => {
    // min silence 500 ms keeps the 4- and 6-frame silences inside the speech; both are split
    // candidates (> 98 ms). At 3 s (46528 samples without window and padding) it splits at the longer.
    const probabilities = runs([0.9, 30], [0, 4], [0.9, 26], [0, 6], [0.9, 65], [0, 20]);
    const result = segments(probabilities, { max_speech_duration_s: 3, min_silence_duration_ms: 500 });
    expect(result).toEqual([
      { start: 0, end: 60 * frame + 480 },
      { start: 66 * frame - 480, end: 131 * frame + 480 },
    ]);
  });

  it('cuts speech longer than max_speech_duration_s where it has no silence to split at', () => {
    const probabilities = runs([0.9, 200]);
    const result = segments(probabilities, { max_speech_duration_s: 3 });
    expect(result.length).toBeGreaterThanOrEqual(3);
    // Cut at frame 91 (46592 > 46528 samples), speech again from frame 92: the 1-frame gap is halved.
    expect(result[0]).toEqual({ start: 0, end: 91 * frame + 256 });
    expect(result[1]!.start).toBe(92 * frame - 256);
    for (const segment of result) expect(segment.end - segment.start).toBeLessThanOrEqual(3 * 16000);
    expect(result.at(-1)!.end).toBe(200 * frame);
  });

  it('answers what the reference answers for the same probabilities and options', () => {
    for (const { runs: parts, options, audioSamples, expected } of referenceCases) {
      const probabilities = runs(...(parts as Array<[number, number]>));
      const result = speechSegments({ probabilities, frameSamples: frame, sampleRate: 16000, audioSamples }, VadOptions.parse(options));
      expect(result.map((s) => [s.start, s.end])).toEqual(expected);
    }
  });

  it('keeps speech running to the end of the audio when longer than min speech', () => {
    expect(segments(runs([0, 10], [0.9, 10]))).toEqual([{ start: 10 * frame - 480, end: 20 * frame }]);
    expect(segments(runs([0, 10], [0.9, 7]))).toEqual([]);
  });
});

/**
 * Answers of the reference's own segment code (get_speech_timestamps from snakers4/silero-vad,
 * utils_vad.py at 806dcba, its loop and padding run in Python over these probabilities): random
 * runs of probabilities and options, 24 of the 3000 cases this port was compared on, all equal.
 */
const referenceCases = [
  {
    runs: [
      [0.95, 13],
      [0.05, 3],
      [0.6, 4],
      [0.6, 2],
      [0.6, 7],
      [0.05, 14],
      [0.05, 8],
    ],
    options: { threshold: 0.7, min_speech_duration_ms: 100, min_silence_duration_ms: 50, speech_pad_ms: 0, max_speech_duration_s: 2.5 },
    audioSamples: 26049,
    expected: [[0, 6656]],
  },
  {
    runs: [
      [0.6, 13],
      [0.95, 2],
      [0.95, 10],
      [0.95, 18],
      [0.6, 10],
      [0.2, 6],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 250, min_silence_duration_ms: 50, speech_pad_ms: 100, max_speech_duration_s: 2.5 },
    audioSamples: 30144,
    expected: [[0, 28736]],
  },
  {
    runs: [
      [0.2, 13],
      [0.2, 12],
      [0.3, 12],
      [0.6, 4],
      [0.05, 7],
      [0.4, 5],
      [0.95, 13],
      [0.3, 3],
    ],
    options: { threshold: 0.7, min_speech_duration_ms: 250, min_silence_duration_ms: 300, speech_pad_ms: 0, max_speech_duration_s: 1.5 },
    audioSamples: 35043,
    expected: [[27136, 35043]],
  },
  {
    runs: [
      [0.3, 12],
      [0.3, 8],
      [0.05, 6],
      [0.95, 22],
      [0.05, 16],
      [0.6, 6],
      [0.4, 1],
    ],
    options: { threshold: 0.7, min_speech_duration_ms: 400, min_silence_duration_ms: 300, speech_pad_ms: 100, max_speech_duration_s: 2.5 },
    audioSamples: 36026,
    expected: [[11712, 26176]],
  },
  {
    runs: [
      [0.05, 4],
      [0.6, 5],
      [0.05, 12],
      [0.05, 3],
      [0.95, 20],
      [0.95, 21],
      [0.4, 20],
      [0.3, 4],
    ],
    options: { threshold: 0.7, min_speech_duration_ms: 250, min_silence_duration_ms: 600, speech_pad_ms: 30, max_speech_duration_s: 1.5 },
    audioSamples: 45481,
    expected: [[11808, 35808]],
  },
  {
    runs: [
      [0.05, 24],
      [0.2, 9],
      [0.2, 6],
      [0.05, 7],
      [0.4, 5],
      [0.6, 1],
      [0.6, 10],
      [0.05, 23],
      [0.4, 17],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 250, min_silence_duration_ms: 100, speech_pad_ms: 100, max_speech_duration_s: 2.5 },
    audioSamples: 51887,
    expected: [[24512, 33344]],
  },
  {
    runs: [
      [0.95, 20],
      [0.95, 8],
      [0.3, 24],
      [0.95, 7],
      [0.3, 12],
      [0.05, 1],
      [0.4, 16],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 400, min_silence_duration_ms: 300, speech_pad_ms: 30, max_speech_duration_s: 2.5 },
    audioSamples: 44699,
    expected: [[0, 14816]],
  },
  {
    runs: [
      [0.05, 8],
      [0.95, 16],
      [0.4, 7],
      [0.6, 20],
      [0.05, 16],
      [0.2, 12],
      [0.2, 3],
      [0.2, 4],
      [0.3, 23],
      [0.95, 16],
      [0.95, 14],
      [0.2, 11],
    ],
    options: { threshold: 0.7, min_speech_duration_ms: 250, min_silence_duration_ms: 600, speech_pad_ms: 100 },
    audioSamples: 76638,
    expected: [
      [2496, 13888],
      [54208, 76638],
    ],
  },
  {
    runs: [
      [0.95, 1],
      [0.6, 15],
      [0.2, 5],
      [0.6, 16],
      [0.4, 5],
      [0.6, 5],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 400, min_silence_duration_ms: 50, speech_pad_ms: 100, max_speech_duration_s: 2.5 },
    audioSamples: 23922,
    expected: [
      [0, 9472],
      [9472, 23922],
    ],
  },
  {
    runs: [
      [0.95, 7],
      [0.4, 7],
      [0.6, 8],
      [0.6, 11],
      [0.6, 14],
      [0.95, 2],
      [0.2, 12],
      [0.3, 22],
      [0.6, 14],
      [0.6, 5],
      [0.95, 17],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 250, min_silence_duration_ms: 100, speech_pad_ms: 100 },
    audioSamples: 60775,
    expected: [
      [0, 26688],
      [40896, 60775],
    ],
  },
  {
    runs: [
      [0.95, 16],
      [0.2, 4],
      [0.05, 11],
      [0.6, 17],
      [0.3, 25],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 100, min_silence_duration_ms: 100, speech_pad_ms: 30 },
    audioSamples: 37276,
    expected: [
      [0, 8672],
      [15392, 25056],
    ],
  },
  {
    runs: [
      [0.3, 18],
      [0.05, 15],
      [0.6, 17],
      [0.6, 7],
      [0.4, 15],
      [0.6, 16],
      [0.95, 23],
    ],
    options: { threshold: 0.35, min_speech_duration_ms: 400, min_silence_duration_ms: 100, speech_pad_ms: 30 },
    audioSamples: 56406,
    expected: [[16416, 56406]],
  },
  {
    runs: [
      [0.05, 13],
      [0.3, 6],
      [0.95, 6],
      [0.3, 17],
      [0.4, 14],
      [0.4, 11],
    ],
    options: { threshold: 0.35, min_speech_duration_ms: 100, min_silence_duration_ms: 300, speech_pad_ms: 100, max_speech_duration_s: 1.5 },
    audioSamples: 33853,
    expected: [
      [8128, 30464],
      [30464, 33853],
    ],
  },
  {
    runs: [
      [0.05, 13],
      [0.6, 20],
      [0.6, 3],
      [0.95, 4],
      [0.4, 9],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 250, min_silence_duration_ms: 100, speech_pad_ms: 30, max_speech_duration_s: 2.5 },
    audioSamples: 24824,
    expected: [[6176, 24824]],
  },
  {
    runs: [
      [0.95, 18],
      [0.6, 19],
      [0.2, 11],
      [0.4, 2],
      [0.2, 6],
      [0.05, 9],
      [0.05, 21],
    ],
    options: { threshold: 0.35, min_speech_duration_ms: 100, min_silence_duration_ms: 100, speech_pad_ms: 0, max_speech_duration_s: 1.5 },
    audioSamples: 43908,
    expected: [
      [0, 23552],
      [24576, 28672],
    ],
  },
  {
    runs: [
      [0.05, 11],
      [0.3, 9],
      [0.95, 2],
      [0.2, 8],
      [0.05, 6],
      [0.05, 6],
      [0.4, 21],
      [0.6, 25],
    ],
    options: { threshold: 0.35, min_speech_duration_ms: 250, min_silence_duration_ms: 100, speech_pad_ms: 30, max_speech_duration_s: 1.5 },
    audioSamples: 45038,
    expected: [
      [9760, 15840],
      [21024, 45024],
    ],
  },
  {
    runs: [
      [0.05, 1],
      [0.2, 17],
      [0.95, 17],
      [0.95, 15],
      [0.2, 21],
      [0.2, 16],
      [0.3, 17],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 100, min_silence_duration_ms: 300, speech_pad_ms: 0, max_speech_duration_s: 2.5 },
    audioSamples: 53105,
    expected: [[9216, 25600]],
  },
  {
    runs: [
      [0.4, 2],
      [0.95, 1],
      [0.2, 24],
      [0.4, 14],
      [0.05, 3],
      [0.3, 17],
      [0.4, 20],
    ],
    options: { threshold: 0.35, min_speech_duration_ms: 100, min_silence_duration_ms: 600, speech_pad_ms: 0 },
    audioSamples: 41197,
    expected: [[0, 41197]],
  },
  {
    runs: [
      [0.05, 9],
      [0.4, 18],
      [0.95, 2],
      [0.4, 7],
      [0.95, 1],
      [0.3, 3],
      [0.4, 17],
      [0.95, 8],
      [0.05, 3],
      [0.05, 5],
      [0.6, 2],
      [0.05, 10],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 100, min_silence_duration_ms: 100, speech_pad_ms: 100, max_speech_duration_s: 2.5 },
    audioSamples: 43122,
    expected: [[12224, 34880]],
  },
  {
    runs: [
      [0.4, 24],
      [0.95, 10],
      [0.6, 21],
      [0.05, 23],
      [0.6, 21],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 400, min_silence_duration_ms: 50, speech_pad_ms: 100, max_speech_duration_s: 2.5 },
    audioSamples: 50453,
    expected: [
      [10688, 29760],
      [38336, 50453],
    ],
  },
  {
    runs: [
      [0.6, 18],
      [0.2, 17],
      [0.2, 24],
      [0.4, 3],
      [0.4, 8],
      [0.95, 8],
      [0.2, 15],
      [0.3, 3],
      [0.2, 10],
      [0.05, 20],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 100, min_silence_duration_ms: 100, speech_pad_ms: 30, max_speech_duration_s: 1.5 },
    audioSamples: 64201,
    expected: [
      [0, 9696],
      [35360, 40416],
    ],
  },
  {
    runs: [
      [0.6, 5],
      [0.3, 2],
      [0.4, 22],
      [0.2, 7],
      [0.3, 10],
      [0.6, 10],
      [0.3, 15],
      [0.05, 18],
    ],
    options: { threshold: 0.35, min_speech_duration_ms: 100, min_silence_duration_ms: 600, speech_pad_ms: 0, max_speech_duration_s: 1.5 },
    audioSamples: 45099,
    expected: [
      [0, 23552],
      [24064, 45099],
    ],
  },
  {
    runs: [
      [0.6, 15],
      [0.3, 7],
      [0.95, 3],
      [0.05, 5],
      [0.6, 9],
      [0.95, 20],
      [0.2, 17],
    ],
    options: { threshold: 0.5, min_speech_duration_ms: 400, min_silence_duration_ms: 300, speech_pad_ms: 0, max_speech_duration_s: 1.5 },
    audioSamples: 38415,
    expected: [
      [0, 7680],
      [11264, 34816],
    ],
  },
  {
    runs: [
      [0.05, 6],
      [0.3, 22],
      [0.3, 10],
      [0.95, 14],
      [0.3, 11],
    ],
    options: { threshold: 0.35, min_speech_duration_ms: 100, min_silence_duration_ms: 300, speech_pad_ms: 30, max_speech_duration_s: 1.5 },
    audioSamples: 32134,
    expected: [[18976, 32134]],
  },
];
