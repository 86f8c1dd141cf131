// Runs Silero VAD v5 over a 16 kHz recording the way Silero's reference wrapper (OnnxWrapper in
// snakers4/silero-vad, src/silero_vad/utils_vad.py) does: frames of 512 samples, each preceded by
// the 64 samples before it (zeros before the first), the last frame zero-padded, the model's
// recurrent state carried from each frame to the next.

import type { NamedTensors, RunModel } from '../run-model.ts';
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
 * The model's speech probability for each frame, in order. Each frame's input is a view into
 * `audio.padded` (an adapter that moves buffers to another thread copies views, it never detaches
 * them); the state passed on is the model's own output, never read again here.
 */
export async function speechProbabilities(audio: FramedAudio, run: RunModel, model: string): Promise<Float32Array> {
  const probabilities = new Float32Array(audio.frames);
  const windowSamples = contextSamples + frameSamples;
  let state: NamedTensors[string] = { datatype: 'FP32', shape: stateShape, data: new Float32Array(stateElements) };
  for (let i = 0; i < audio.frames; i++) {
    const offset = i * frameSamples;
    const outputs = await run(model, {
      input: { datatype: 'FP32', shape: [1, windowSamples], data: audio.padded.subarray(offset, offset + windowSamples) },
      state,
      // A new scalar per frame: an adapter may move (detach) what it is given, and it is 8 bytes.
      sr: { datatype: 'INT64', shape: [], data: BigInt64Array.of(sampleRateValue) },
    });
    const output = outputs.output;
    const nextState = outputs.stateN;
    if (!output || !nextState || output.data.length < 1 || nextState.data.length !== stateElements) {
      throw new Error(`model '${model}' did not answer 'output' and a ${stateElements}-element 'stateN'`);
    }
    probabilities[i] = Number(output.data[0]);
    state = { datatype: 'FP32', shape: stateShape, data: nextState.data };
  }
  return probabilities;
}
