import { describe, expect, it } from 'vitest';
import { modelSampleRate, resampledLength, resampleInto, resampleTo16k } from '../../../models/tasks/vad/resample.ts';

function sine(rate: number, hz: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** RMS over the middle of a signal, away from the filter's edges. */
function rms(samples: Float32Array): number {
  const from = Math.floor(samples.length * 0.1);
  const to = Math.floor(samples.length * 0.9);
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / (to - from));
}

/** Largest difference from the ideal 16 kHz sine, over the middle of the output. */
function maxErrorAgainstIdeal(output: Float32Array, hz: number, amplitude = 0.5): number {
  let worst = 0;
  for (let n = Math.floor(output.length * 0.1); n < output.length * 0.9; n++) {
    worst = Math.max(worst, Math.abs(output[n]! - amplitude * Math.sin((2 * Math.PI * hz * n) / modelSampleRate)));
  }
  return worst;
}

describe('resampleTo16k', () => {
  it('passes 16 kHz through untouched', () => {
    const input = sine(16000, 440, 0.1);
    expect(resampleTo16k(input, 16000)).toBe(input);
    const out = new Float32Array(input.length);
    resampleInto(input, 16000, out);
    expect(out).toEqual(input);
  });

  it('keeps the duration: one 16 kHz sample per 1/16 ms, rounded up', () => {
    expect(resampledLength(44100, 44100)).toBe(16000);
    expect(resampledLength(22050 * 3 + 1, 22050)).toBe(48001);
    expect(resampledLength(8000, 8000)).toBe(16000);
    expect(resampleTo16k(new Float32Array(441), 44100).length).toBe(160);
  });

  it.each([8000, 11025, 22050, 24000, 32000, 44100, 48000, 44101, 12345])(
    'keeps a 1 kHz sine at %i Hz: same amplitude, frequency and phase',
    (rate) => {
      const output = resampleTo16k(sine(rate, 1000, 0.5), rate);
      expect(rms(output)).toBeCloseTo(0.5 / Math.SQRT2, 2);
      expect(maxErrorAgainstIdeal(output, 1000)).toBeLessThan(0.005);
    },
  );

  it('keeps a 3.5 kHz sine from 44.1 kHz within 0.1 dB', () => {
    const output = resampleTo16k(sine(44100, 3500, 0.5), 44100);
    expect(20 * Math.log10(rms(output) / (0.5 / Math.SQRT2))).toBeGreaterThan(-0.1);
    expect(maxErrorAgainstIdeal(output, 3500)).toBeLessThan(0.01);
  });

  it.each([
    [44100, 8500],
    [44100, 10000],
    [44100, 15000],
    [44100, 20000],
    [48000, 12000],
    [22050, 9000],
  ])('attenuates a sine above 8 kHz (from %i Hz, at %i Hz) by at least 40 dB', (rate, hz) => {
    const output = resampleTo16k(sine(rate, hz, 0.5), rate);
    const gainDb = 20 * Math.log10(rms(output) / (0.5 / Math.SQRT2));
    expect(gainDb).toBeLessThan(-40);
  });

  it('keeps a constant constant, including at the ends', () => {
    const output = resampleTo16k(new Float32Array(4410).fill(0.25), 44100);
    for (let i = 50; i < output.length - 50; i++) expect(output[i]).toBeCloseTo(0.25, 5);
  });

  it('answers silence for silence and nothing for nothing', () => {
    expect(resampleTo16k(new Float32Array(0), 22050).length).toBe(0);
    expect(rms(resampleTo16k(new Float32Array(2205), 22050))).toBe(0);
  });
});
