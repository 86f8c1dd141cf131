// Real speech for the VAD tests, generated at test time: espeak-ng phrases separated by silences of
// known length, joined by sox at espeak-ng's native 22.05 kHz (16-bit mono), and the same recording
// converted by sox to 44.1 kHz stereo 32-bit float. Answers the bytes and where each phrase lies.

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
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
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
    return {
      pcm16Mono22k: new Uint8Array(readFileSync(mono)),
      float32Stereo44k: new Uint8Array(readFileSync(stereo)),
      phrases: phrases_,
      gaps,
      durationMs: seconds(mono) * 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
