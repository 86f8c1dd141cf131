// Runs Silero VAD v5 over a 16 kHz recording the way Silero's reference wrapper (OnnxWrapper in
// snakers4/silero-vad, src/silero_vad/utils_vad.py) does: frames of 512 samples, each preceded by
// the 64 samples before it (zeros before the first), the last frame zero-padded, the model's
// recurrent state carried from each frame to the next.

import type { ScanModel } from '../run-model.ts';
import { modelSampleRate, resampledLength, resampleInto } from './resample.ts';

export const frameSamples = 512;
export const contextSamples = 64;
const stateShape = [2, 1, 128];
const stateElements = 2 * 1 * 128;
const sampleRateValue = BigInt(modelSampleRate);

/**
 * The recording at 16 kHz laid out for framing: `contextSamples` zeros, the samples, then zeros up to
 * a whole number of frames. Frame i's model input is then the window
 * [i × frameSamples, i × frameSamples + contextSamples + frameSamples), with no copy per frame.
 */
export interface FramedAudio {
  padded: Float32Array;
  /** Samples of audio at 16 kHz, without the padding. */
  samples: number;
  frames: number;
}

/** Resamples `mono` (at `sampleRate`) to 16 kHz straight into the framing layout. */
export function frameAudio(mono: Float32Array, sampleRate: number): FramedAudio {
  const samples = resampledLength(mono.length, sampleRate);
  const frames = Math.ceil(samples / frameSamples);
  const padded = new Float32Array(contextSamples + frames * frameSamples);
  resampleInto(mono, sampleRate, padded.subarray(contextSamples, contextSamples + samples));
  return { padded, samples, frames };
}

/**
 * The model's speech probability for each frame, in order: one scan of the model over the frames
 * (models/tasks/run-model.ts), each frame's window a view into `audio.padded`, the state carried from
 * each frame to the next where the scan runs.
 */
export function speechProbabilities(audio: FramedAudio, scan: ScanModel, model: string): Promise<Float32Array> {
  return scan(model, {
    window: { name: 'input', data: audio.padded, width: contextSamples + frameSamples, hop: frameSamples, steps: audio.frames },
    carry: { input: 'state', output: 'stateN', initial: { datatype: 'FP32', shape: stateShape, data: new Float32Array(stateElements) } },
    fixed: { sr: { datatype: 'INT64', shape: [], data: BigInt64Array.of(sampleRateValue) } },
    collect: 'output',
  });
}
