// Real speech for the VAD tests, generated at test time: espeak-ng phrases separated by silences of
// known length, joined by sox at espeak-ng's native 22.05 kHz (16-bit mono), and the same recording
// converted by sox to 44.1 kHz stereo 32-bit float (and to 16 kHz, by sox's resampler, as a
// reference for ours). Answers the bytes and where each phrase lies. Also a WAV writer for hand-made
// (and deliberately broken) headers.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Interval {
  startMs: number;
  endMs: number;
}

export interface SpeechRecording {
  /** 22.05 kHz, 16-bit PCM, mono: as espeak-ng speaks. */
  pcm16Mono22k: Uint8Array;
  /** The same, 44.1 kHz, 32-bit float, stereo (WAVE_FORMAT_IEEE_FLOAT or EXTENSIBLE, as sox writes). */
  float32Stereo44k: Uint8Array;
  /** The same, resampled to 16 kHz by sox: what the model hears without our resampler. */
  pcm16Mono16k: Uint8Array;
  phrases: Interval[];
  /** The silences between phrases (not the lead-in and tail). */
  gaps: Interval[];
  durationMs: number;
}

export const defaultPhrases = [
  'The quick brown fox jumps over the lazy dog.',
  'Speech detection runs at the edge of the network.',
  'Three phrases, separated by silence.',
];

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${command} is not installed; the speech tests need espeak-ng and sox (apt-get install espeak-ng sox)`);
    }
    throw err;
  }
}

function seconds(path: string): number {
  const samples = Number(run('soxi', ['-s', path]).trim());
  const rate = Number(run('soxi', ['-r', path]).trim());
  return samples / rate;
}

/**
 * Speaks `phrases` with `gapsSeconds[i]` of digital silence between phrase i and i + 1, and
 * `edgeSeconds` of silence before the first and after the last. Each phrase is trimmed of espeak-ng's
 * own leading and trailing silence, so its interval is where the voice is.
 */
export function generateSpeech(
  phrases: readonly string[] = defaultPhrases,
  gapsSeconds: readonly number[] = [1.0, 1.5],
  edgeSeconds = 0.5,
): SpeechRecording {
  if (gapsSeconds.length !== phrases.length - 1) throw new Error('one gap between each two phrases');
  const dir = mkdtempSync(join(tmpdir(), 'edgeinfer-speech-'));
  try {
    const silence = (name: string, length: number): string => {
      const path = join(dir, name);
      run('sox', ['-n', '-r', '22050', '-c', '1', '-b', '16', '-e', 'signed-integer', path, 'trim', '0', String(length)]);
      return path;
    };
    const parts: string[] = [silence('lead.wav', edgeSeconds)];
    const phrases_: Interval[] = [];
    const gaps: Interval[] = [];
    let atSeconds = edgeSeconds;
    phrases.forEach((text, i) => {
      const raw = join(dir, `phrase-${i}-raw.wav`);
      const trimmed = join(dir, `phrase-${i}.wav`);
      run('espeak-ng', ['-v', 'en', '-s', '150', '-w', raw, text]);
      // Trim to the voice: silence effect from the start, then again on the reversed audio.
      run('sox', [raw, trimmed, 'silence', '1', '0.005', '-45d', 'reverse', 'silence', '1', '0.005', '-45d', 'reverse']);
      const length = seconds(trimmed);
      phrases_.push({ startMs: atSeconds * 1000, endMs: (atSeconds + length) * 1000 });
      parts.push(trimmed);
      atSeconds += length;
      const gap = gapsSeconds[i];
      if (gap !== undefined) {
        gaps.push({ startMs: atSeconds * 1000, endMs: (atSeconds + gap) * 1000 });
        parts.push(silence(`gap-${i}.wav`, gap));
        atSeconds += gap;
      }
    });
    parts.push(silence('tail.wav', edgeSeconds));
    const mono = join(dir, 'speech-22k-mono.wav');
    run('sox', [...parts, mono]);
    const stereo = join(dir, 'speech-44k-stereo-float.wav');
    run('sox', [mono, '-r', '44100', '-c', '2', '-e', 'floating-point', '-b', '32', stereo]);
    const mono16k = join(dir, 'speech-16k-mono.wav');
    run('sox', [mono, '-r', '16000', mono16k]);
    return {
      pcm16Mono22k: new Uint8Array(readFileSync(mono)),
      float32Stereo44k: new Uint8Array(readFileSync(stereo)),
      pcm16Mono16k: new Uint8Array(readFileSync(mono16k)),
      phrases: phrases_,
      gaps,
      durationMs: seconds(mono) * 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WavSpec {
  /** 1 PCM, 3 IEEE float, 0xFFFE WAVE_FORMAT_EXTENSIBLE (then `subformat` says which), others as given. */
  formatTag?: number;
  subformat?: number;
  channels?: number;
  sampleRate?: number;
  bitsPerSample?: number;
  /** Defaults to what the other fields imply; set to lie. */
  blockAlign?: number;
  byteRate?: number;
  /** The data chunk's declared size; defaults to `data.length`. */
  dataSize?: number;
  data?: Uint8Array;
  /** Chunks written between 'fmt ' and 'data' (odd sizes get their pad byte). */
  extraChunks?: Array<{ id: string; body: Uint8Array }>;
  /** Leave the 'fmt ' chunk out. */
  omitFormat?: boolean;
}

/** Writes a WAV file as `spec` says, true or not. */
export function buildWav(spec: WavSpec = {}): Uint8Array {
  const formatTag = spec.formatTag ?? 1;
  const channels = spec.channels ?? 1;
  const sampleRate = spec.sampleRate ?? 16000;
  const bitsPerSample = spec.bitsPerSample ?? 16;
  const blockAlign = spec.blockAlign ?? (channels * bitsPerSample) / 8;
  const byteRate = spec.byteRate ?? sampleRate * blockAlign;
  const data = spec.data ?? new Uint8Array(0);
  const extensible = formatTag === 0xfffe;
  const chunks: Array<{ id: string; body: Uint8Array; size?: number }> = [];
  if (!spec.omitFormat) {
    const fmt = new DataView(new ArrayBuffer(extensible ? 40 : 16));
    fmt.setUint16(0, formatTag, true);
    fmt.setUint16(2, channels, true);
    fmt.setUint32(4, sampleRate, true);
    fmt.setUint32(8, byteRate, true);
    fmt.setUint16(12, blockAlign, true);
    fmt.setUint16(14, bitsPerSample, true);
    if (extensible) {
      fmt.setUint16(16, 22, true);
      fmt.setUint16(18, bitsPerSample, true);
      fmt.setUint32(20, channels === 2 ? 3 : 4, true);
      const guid = [spec.subformat ?? 1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
      guid.forEach((byte, i) => fmt.setUint8(24 + i, byte));
    }
    chunks.push({ id: 'fmt ', body: new Uint8Array(fmt.buffer) });
  }
  chunks.push(...(spec.extraChunks ?? []));
  chunks.push({ id: 'data', body: data, size: spec.dataSize ?? data.length });
  const length = 12 + chunks.reduce((sum, c) => sum + 8 + c.body.length + (c.id === 'data' ? 0 : c.body.length & 1), 0);
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => [...text].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, length - 8, true);
  ascii(8, 'WAVE');
  let offset = 12;
  for (const chunk of chunks) {
    ascii(offset, chunk.id);
    view.setUint32(offset + 4, chunk.size ?? chunk.body.length, true);
    bytes.set(chunk.body, offset + 8);
    offset += 8 + chunk.body.length + (chunk.id === 'data' ? 0 : chunk.body.length & 1);
  }
  return bytes;
}

/** Interleaved samples in [-1, 1] as 16-bit PCM bytes. */
export function pcm16Bytes(samples: ArrayLike<number>): Uint8Array {
  const view = new DataView(new ArrayBuffer(samples.length * 2));
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), true);
  return new Uint8Array(view.buffer);
}

/** Interleaved samples as 32-bit float bytes. */
export function float32Bytes(samples: ArrayLike<number>): Uint8Array {
  const view = new DataView(new ArrayBuffer(samples.length * 4));
  for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]!, true);
  return new Uint8Array(view.buffer);
}
