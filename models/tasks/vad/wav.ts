// Reads WAV recordings: `inspectWav` walks only the RIFF headers, so a route can refuse a file by its
// encoding or length before any heavy work; `decodeWav` then mixes its samples down to one channel.
// Every size a header declares is checked against the bytes actually present before it is used.

import { InvalidInput, PayloadTooLarge, UnsupportedMediaType } from '../../../protocol/errors.ts';

export type WavEncoding = 'pcm16' | 'float32';

export interface WavInfo {
  encoding: WavEncoding;
  channels: number;
  sampleRate: number;
  /** Samples per channel. */
  frames: number;
  durationMs: number;
  /** Bytes of one frame (all channels). */
  blockAlign: number;
  /** Where the samples start in the file, and how many bytes of them there are. */
  dataOffset: number;
  dataBytes: number;
}

export const minSampleRate = 8000;
export const maxSampleRate = 48000;

const supportedEncodings = ['audio/wav with 16-bit PCM or 32-bit float samples'] as const;

/**
 * A declared data size at least this large, with fewer bytes present, is a streaming placeholder:
 * a writer that cannot seek back (a pipe) never learns the length, so sox and espeak-ng write
 * 0x7FFFF000 and ffmpeg 0xFFFFFFFF. Such a recording is read to the end of the file. A smaller size
 * past the end is a truncated file or a lying header, and is refused rather than guessed at. Some
 * streaming writers put 0 instead: a data size of 0 followed by bytes that are not a chunk is read
 * the same way, rather than answered as an empty recording with no speech in it.
 */
const streamingPlaceholderMinBytes = 0x7fff_0000;

/** Whether a chunk header (a printable id and a size within the file) starts at `offset`. */
function chunkStartsAt(bytes: Uint8Array, view: DataView, offset: number): boolean {
  if (offset + 8 > bytes.length) return false;
  for (let i = offset; i < offset + 4; i++) if (bytes[i]! < 0x20 || bytes[i]! > 0x7e) return false;
  return view.getUint32(offset + 4, true) <= bytes.length - offset - 8;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Names of the format tags a caller is likely to send, for an error that says what was found. */
const formatNames: Record<number, string> = {
  2: 'Microsoft ADPCM',
  6: 'A-law',
  7: 'mu-law',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG',
  85: 'MP3',
  5648: 'AAC',
  61868: 'FLAC',
};

/** The bytes after the first two of the KSDATAFORMAT_SUBTYPE_* GUIDs for PCM and IEEE float. */
const subformatGuidTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

function printable(id: string): string {
  return /^[\x20-\x7e]{4}$/.test(id) ? `'${id}'` : 'a non-text chunk id';
}

function unsupported(found: string): UnsupportedMediaType {
  return new UnsupportedMediaType(`audio/wav with ${found}`, supportedEncodings);
}

interface Format {
  encoding: WavEncoding;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function readFormat(view: DataView, offset: number, size: number): Format {
  if (size < 16) throw new InvalidInput(`WAV 'fmt ' chunk is ${size} bytes; it needs at least 16`);
  let tag = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const byteRate = view.getUint32(offset + 8, true);
  const blockAlign = view.getUint16(offset + 12, true);
  const bitsPerSample = view.getUint16(offset + 14, true);

  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new InvalidInput(`WAV 'fmt ' chunk of WAVE_FORMAT_EXTENSIBLE is ${size} bytes; it needs 40`);
    const guid = new Uint8Array(view.buffer, view.byteOffset + offset + 24, 16);
    const known = subformatGuidTail.every((byte, i) => guid[i + 2] === byte) && guid[1] === 0;
    if (!known) throw unsupported('a WAVE_FORMAT_EXTENSIBLE subformat that is neither PCM nor IEEE float');
    tag = guid[0]!;
  }

  let encoding: WavEncoding;
  if (tag === WAVE_FORMAT_PCM) {
    if (bitsPerSample !== 16) throw unsupported(`${bitsPerSample}-bit PCM samples`);
    encoding = 'pcm16';
  } else if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bitsPerSample !== 32) throw unsupported(`${bitsPerSample}-bit float samples`);
    encoding = 'float32';
  } else {
    throw unsupported(`${formatNames[tag] ?? `format tag 0x${tag.toString(16).padStart(4, '0')}`} samples`);
  }

  if (channels === 0) throw new InvalidInput('WAV header declares 0 channels');
  if (sampleRate < minSampleRate || sampleRate > maxSampleRate) {
    throw new InvalidInput(`WAV sample rate ${sampleRate} Hz is not supported; send ${minSampleRate} to ${maxSampleRate} Hz`);
  }
  const expectedBlockAlign = channels * (bitsPerSample / 8);
  if (blockAlign !== expectedBlockAlign) {
    throw new InvalidInput(
      `WAV block align is ${blockAlign} bytes; ${channels} channel(s) of ${bitsPerSample}-bit samples take ${expectedBlockAlign}`,
    );
  }
  if (byteRate !== sampleRate * blockAlign) {
    throw new InvalidInput(`WAV byte rate is ${byteRate}; ${sampleRate} Hz × ${blockAlign} bytes per frame is ${sampleRate * blockAlign}`);
  }
  return { encoding, channels, sampleRate, byteRate, blockAlign, bitsPerSample };
}

/**
 * Reads a WAV file's headers (not its samples) and checks them: structure, encoding, sample rate,
 * and, when given, that the recording lasts at most `maxAudioSeconds`.
 */
export function inspectWav(bytes: Uint8Array, maxAudioSeconds = Infinity): WavInfo {
  if (bytes.length === 0) throw new InvalidInput('the audio file is empty');
  if (bytes.length < 12) throw new InvalidInput(`the audio file is ${bytes.length} bytes, too short for a WAV header`);
  const riff = fourcc(bytes, 0);
  if (riff === 'RIFX') throw unsupported('big-endian (RIFX) samples');
  if (riff === 'RF64') throw unsupported('an RF64 header');
  if (riff !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') throw new InvalidInput('the audio file is not a WAV file (no RIFF/WAVE header)');

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: Format | undefined;
  let data: { offset: number; size: number; streamed: boolean } | undefined;
  // The RIFF size is not trusted: streaming writers leave a placeholder there too. Chunks are read up
  // to the end of the bytes; fewer than 8 bytes left over cannot hold a chunk and are ignored.
  let offset = 12;
  while (offset + 8 <= bytes.length && !(format && data)) {
    const id = fourcc(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const remaining = bytes.length - body;
    if (id === 'data') {
      if (data) throw new InvalidInput('WAV file has more than one data chunk');
      if (size === 0 && remaining > 0 && !chunkStartsAt(bytes, view, body)) {
        data = { offset: body, size: remaining, streamed: true };
        break;
      } else if (size <= remaining) {
        data = { offset: body, size, streamed: false };
      } else if (size >= streamingPlaceholderMinBytes) {
        data = { offset: body, size: remaining, streamed: true };
        break; // a streamed data chunk runs to the end of the file
      } else {
        throw new InvalidInput(
          `WAV data chunk declares ${size} bytes but only ${remaining} follow: the file is truncated or its header is wrong`,
        );
      }
    } else {
      if (size > remaining) {
        throw new InvalidInput(
          `WAV chunk ${printable(id)} declares ${size} bytes but only ${remaining} follow: the file is truncated or its header is wrong`,
        );
      }
      if (id === 'fmt ') {
        if (format) throw new InvalidInput("WAV file has more than one 'fmt ' chunk");
        format = readFormat(view, body, size);
      }
    }
    offset = body + size + (size & 1); // chunks are padded to an even length
  }
  if (!format) throw new InvalidInput("WAV file has no 'fmt ' chunk before its end");
  if (!data) throw new InvalidInput('WAV file has no data chunk');

  let dataBytes = data.size;
  if (dataBytes % format.blockAlign !== 0) {
    if (!data.streamed) {
      throw new InvalidInput(`WAV data chunk is ${dataBytes} bytes, not a whole number of ${format.blockAlign}-byte frames`);
    }
    dataBytes -= dataBytes % format.blockAlign; // a pipe cut mid-frame: keep the whole frames
  }
  const frames = dataBytes / format.blockAlign;
  const durationMs = (frames * 1000) / format.sampleRate;
  if (durationMs > maxAudioSeconds * 1000) {
    throw new PayloadTooLarge(`the recording lasts ${Number((durationMs / 1000).toFixed(3))} s; the limit is ${maxAudioSeconds} s`);
  }
  return {
    encoding: format.encoding,
    channels: format.channels,
    sampleRate: format.sampleRate,
    frames,
    durationMs,
    blockAlign: format.blockAlign,
    dataOffset: data.offset,
    dataBytes,
  };
}

/**
 * The recording's samples in [-1, 1] (floats as stored), channels averaged into one. `info` must be
 * `inspectWav`'s answer for the same bytes; it is checked against them before anything is allocated.
 */
export function decodeWav(bytes: Uint8Array, info: WavInfo): Float32Array {
  const { channels, frames, dataOffset, blockAlign } = info;
  const bytesPerSample = info.encoding === 'pcm16' ? 2 : 4;
  if (
    !Number.isInteger(frames) ||
    frames < 0 ||
    channels < 1 ||
    blockAlign !== channels * bytesPerSample ||
    !Number.isInteger(dataOffset) ||
    dataOffset < 0 ||
    dataOffset + frames * blockAlign > bytes.length
  ) {
    throw new InvalidInput('WAV header does not match the file');
  }
  // DataView reads little-endian samples at any offset: sox's 18-byte 'fmt ' and its 'fact' chunk put
  // the data at byte 58, where a Float32Array view cannot start, and copying 4 MB to align it costs
  // more than these reads (measured: 1.7 ms against 6 ms for 10 s of 44.1 kHz stereo float).
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, frames * blockAlign);
  const mono = new Float32Array(frames);
  const badFrame = info.encoding === 'pcm16' ? mixPcm16(view, channels, mono) : mixFloat32(view, channels, mono);
  if (badFrame >= 0) throw new InvalidInput(`WAV float sample at frame ${badFrame} is not a finite number`);
  return mono;
}

/** Averages the channels of 16-bit samples into `mono`; answers -1 (every value is finite). */
function mixPcm16(view: DataView, channels: number, mono: Float32Array): number {
  const frames = mono.length;
  const scale = 1 / (32768 * channels);
  if (channels === 1) {
    for (let i = 0; i < frames; i++) mono[i] = view.getInt16(i * 2, true) * scale;
  } else if (channels === 2) {
    for (let i = 0, o = 0; i < frames; i++, o += 4) mono[i] = (view.getInt16(o, true) + view.getInt16(o + 2, true)) * scale;
  } else {
    for (let i = 0, o = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++, o += 2) sum += view.getInt16(o, true);
      mono[i] = sum * scale;
    }
  }
  return -1;
}

/**
 * Averages the channels of 32-bit float samples into `mono`; answers the first frame whose mix is
 * not finite (NaN or infinity in the file would turn every probability after it into NaN), or -1.
 */
function mixFloat32(view: DataView, channels: number, mono: Float32Array): number {
  const frames = mono.length;
  if (channels === 1) {
    for (let i = 0; i < frames; i++) {
      const value = view.getFloat32(i * 4, true);
      if (value - value !== 0) return i;
      mono[i] = value;
    }
  } else if (channels === 2) {
    for (let i = 0, o = 0; i < frames; i++, o += 8) {
      const value = Math.fround((view.getFloat32(o, true) + view.getFloat32(o + 4, true)) * 0.5);
      if (value - value !== 0) return i;
      mono[i] = value;
    }
  } else {
    const scale = 1 / channels;
    for (let i = 0, o = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++, o += 4) sum += view.getFloat32(o, true);
      const value = Math.fround(sum * scale);
      if (value - value !== 0) return i;
      mono[i] = value;
    }
  }
  return -1;
}
