import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWav, inspectWav } from '../../../models/tasks/vad/wav.ts';
import { HttpError, InvalidInput, PayloadTooLarge, UnsupportedMediaType } from '../../../protocol/errors.ts';
import { buildWav, float32Bytes, pcm16Bytes } from '../../support/speech.ts';

function thrown(work: () => unknown): HttpError {
  try {
    work();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw new Error(`threw ${String(err)}, not an HttpError`);
  }
  throw new Error('did not throw');
}

function inspectAndDecode(bytes: Uint8Array, maxAudioSeconds?: number) {
  const info = inspectWav(bytes, maxAudioSeconds);
  return { info, mono: decodeWav(bytes, info) };
}

describe('inspectWav and decodeWav', () => {
  it('reads 16-bit PCM mono samples and the header facts', () => {
    const bytes = buildWav({ sampleRate: 22050, data: pcm16Bytes([0, 0.5, -0.5, -1]) });
    const { info, mono } = inspectAndDecode(bytes);
    expect(info).toMatchObject({ encoding: 'pcm16', channels: 1, sampleRate: 22050, frames: 4, blockAlign: 2, dataOffset: 44 });
    expect(info.durationMs).toBeCloseTo((4 / 22050) * 1000, 9);
    expect([...mono].map((v) => Math.round(v * 1000) / 1000)).toEqual([0, 0.5, -0.5, -1]);
  });

  it('averages the channels of 32-bit float stereo', () => {
    const bytes = buildWav({
      formatTag: 3,
      channels: 2,
      bitsPerSample: 32,
      sampleRate: 44100,
      data: float32Bytes([1, 0, 0.25, 0.75, -1, -0.5]),
    });
    const { info, mono } = inspectAndDecode(bytes);
    expect(info).toMatchObject({ encoding: 'float32', channels: 2, frames: 3 });
    expect([...mono]).toEqual([0.5, 0.5, -0.75]);
  });

  it('averages any channel count of 16-bit PCM', () => {
    const bytes = buildWav({ channels: 3, data: pcm16Bytes([0.3, 0.3, 0.3, -0.6, 0, 0]) });
    const { mono } = inspectAndDecode(bytes);
    expect(mono[0]).toBeCloseTo(0.3, 3);
    expect(mono[1]).toBeCloseTo(-0.2, 3);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with a PCM or IEEE float subformat', () => {
    const pcm = inspectAndDecode(buildWav({ formatTag: 0xfffe, subformat: 1, channels: 2, data: pcm16Bytes([0.5, 0.5]) }));
    expect(pcm.info.encoding).toBe('pcm16');
    expect(pcm.mono[0]).toBeCloseTo(0.5, 3);
    const float = inspectAndDecode(buildWav({ formatTag: 0xfffe, subformat: 3, bitsPerSample: 32, data: float32Bytes([0.25]) }));
    expect(float.info.encoding).toBe('float32');
    expect([...float.mono]).toEqual([0.25]);
  });

  it('skips unknown chunks, odd-sized ones with their pad byte, and reads data at an unaligned offset', () => {
    const bytes = buildWav({
      formatTag: 3,
      bitsPerSample: 32,
      extraChunks: [
        { id: 'LIST', body: new Uint8Array(3) },
        { id: 'fact', body: new Uint8Array(6) },
      ],
      data: float32Bytes([0.125, -0.125]),
    });
    const { info, mono } = inspectAndDecode(bytes);
    expect(info.dataOffset % 4).not.toBe(0);
    expect([...mono]).toEqual([0.125, -0.125]);
  });

  it('reads a streamed WAV (data size 0xFFFFFFFF or 0x7FFFF000) to the end of the file', () => {
    for (const dataSize of [0xffffffff, 0x7ffff000]) {
      const { info, mono } = inspectAndDecode(buildWav({ dataSize, data: pcm16Bytes([0.5, 0.5, 0.5]) }));
      expect(info.frames).toBe(3);
      expect(mono.length).toBe(3);
    }
  });

  it('reads a streamed WAV whose data size is 0 to the end, but not the chunks after an empty data chunk', () => {
    const streamed = inspectAndDecode(buildWav({ dataSize: 0, data: pcm16Bytes([0.5, 0.5, 0.5]) }));
    expect(streamed.info.frames).toBe(3);
    const empty = buildWav({ data: new Uint8Array(0) });
    const withList = new Uint8Array([...empty, ...new TextEncoder().encode('LIST'), 4, 0, 0, 0, 1, 2, 3, 4]);
    expect(inspectWav(withList).frames).toBe(0);
  });

  it('keeps the whole frames of a streamed WAV cut mid-frame', () => {
    const data = new Uint8Array([...pcm16Bytes([0.5, 0.5, 0.5, 0.5]), 7]);
    const { info } = inspectAndDecode(buildWav({ channels: 2, dataSize: 0xffffffff, data }));
    expect(info.frames).toBe(2);
  });

  it('answers an empty recording as zero frames', () => {
    const { info, mono } = inspectAndDecode(buildWav({}));
    expect(info.frames).toBe(0);
    expect(mono.length).toBe(0);
  });
});

describe('inspectWav refusals', () => {
  const valid = buildWav({ data: pcm16Bytes([0, 0.1, 0.2, 0.3]) });

  it.each([
    ['an empty body', new Uint8Array(0), /empty/],
    ['a body too short for a header', new Uint8Array([0x52, 0x49, 0x46, 0x46]), /too short/],
    ['bytes that are not RIFF/WAVE', new TextEncoder().encode('<html>not audio at all</html>'), /not a WAV file/],
    ['a RIFF file that is not WAVE', new TextEncoder().encode('RIFF\x10\x00\x00\x00AVI LIST'), /not a WAV file/],
    ['a file cut inside its header', valid.slice(0, 30), /no 'fmt ' chunk|declares/],
    ['a header with no data chunk', valid.slice(0, 36), /no data chunk/],
    ['a data chunk larger than the file', buildWav({ dataSize: 1000, data: pcm16Bytes([0, 0]) }), /declares 1000 bytes but only 4 follow/],
    [
      'a chunk size past the end',
      buildWav({ extraChunks: [{ id: 'LIST', body: new Uint8Array(20) }] }).slice(0, 50),
      /chunk 'LIST' declares 20 bytes but only 6 follow/,
    ],
    ['a data size that is not whole frames', buildWav({ channels: 2, data: new Uint8Array(6) }), /not a whole number of 4-byte frames/],
    ['zero channels', buildWav({ channels: 0, blockAlign: 0, data: new Uint8Array(4) }), /0 channels/],
    [
      'an inconsistent block align',
      buildWav({ channels: 2, blockAlign: 2, data: new Uint8Array(4) }),
      /block align is 2 bytes; 2 channel\(s\) of 16-bit samples take 4/,
    ],
    [
      'an inconsistent byte rate',
      buildWav({ byteRate: 12345, data: new Uint8Array(4) }),
      /byte rate is 12345; 16000 Hz × 2 bytes per frame is 32000/,
    ],
    [
      'a fmt chunk too short',
      buildWav({ omitFormat: true, extraChunks: [{ id: 'fmt ', body: new Uint8Array(10) }] }),
      /'fmt ' chunk is 10 bytes/,
    ],
    ['a missing fmt chunk', buildWav({ omitFormat: true, data: new Uint8Array(4) }), /no 'fmt ' chunk/],
    [
      'a sample rate below 8 kHz',
      buildWav({ sampleRate: 7999, data: new Uint8Array(4) }),
      /7999 Hz is not supported; send 8000 to 48000 Hz/,
    ],
    ['a sample rate above 48 kHz', buildWav({ sampleRate: 96000, data: new Uint8Array(4) }), /96000 Hz is not supported/],
  ])('refuses %s with 400 and says why', (_name, bytes, message) => {
    const err = thrown(() => inspectWav(bytes));
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['8-bit PCM', { bitsPerSample: 8 }, /8-bit PCM/],
    ['24-bit PCM', { bitsPerSample: 24 }, /24-bit PCM/],
    ['32-bit PCM', { bitsPerSample: 32 }, /32-bit PCM/],
    ['64-bit float', { formatTag: 3, bitsPerSample: 64 }, /64-bit float/],
    ['mu-law', { formatTag: 7, bitsPerSample: 8 }, /mu-law/],
    ['A-law', { formatTag: 6, bitsPerSample: 8 }, /A-law/],
    ['IMA ADPCM', { formatTag: 0x11, bitsPerSample: 4, blockAlign: 256 }, /IMA ADPCM/],
    ['an unknown format tag', { formatTag: 0x1234 }, /format tag 0x1234/],
    ['an extensible 24-bit PCM', { formatTag: 0xfffe, bitsPerSample: 24 }, /24-bit PCM/],
    ['an extensible mu-law subformat', { formatTag: 0xfffe, subformat: 7 }, /mu-law/],
  ])('refuses %s with 415 naming what was found and what is supported', (_name, spec, found) => {
    const err = thrown(() => inspectWav(buildWav({ ...spec, data: new Uint8Array(12) })));
    expect(err).toBeInstanceOf(UnsupportedMediaType);
    expect(err.status).toBe(415);
    expect(err.message).toMatch(found);
    expect(err.message).toMatch(/16-bit PCM or 32-bit float/);
  });

  it('refuses a WAVE_FORMAT_EXTENSIBLE subformat GUID it does not know with 415', () => {
    const bytes = buildWav({ formatTag: 0xfffe, data: new Uint8Array(4) });
    bytes[12 + 8 + 24 + 15] = 0x00; // the GUID's last byte
    const err = thrown(() => inspectWav(bytes));
    expect(err).toBeInstanceOf(UnsupportedMediaType);
    expect(err.message).toMatch(/EXTENSIBLE subformat that is neither PCM nor IEEE float/);
  });

  it('refuses big-endian RIFX and RF64 with 415', () => {
    const rifx = valid.slice();
    rifx.set([0x52, 0x49, 0x46, 0x58], 0);
    expect(thrown(() => inspectWav(rifx))).toBeInstanceOf(UnsupportedMediaType);
    const rf64 = valid.slice();
    rf64.set([0x52, 0x46, 0x36, 0x34], 0);
    expect(thrown(() => inspectWav(rf64))).toBeInstanceOf(UnsupportedMediaType);
  });

  it('refuses a recording longer than maxAudioSeconds with 413, from the header alone', () => {
    const twoSeconds = buildWav({ sampleRate: 8000, data: new Uint8Array(2 * 8000 * 2) });
    expect(inspectWav(twoSeconds, 2).frames).toBe(16000);
    const err = thrown(() => inspectWav(twoSeconds, 1.5));
    expect(err).toBeInstanceOf(PayloadTooLarge);
    expect(err.message).toBe('the recording lasts 2 s; the limit is 1.5 s');
    // A streamed header claims 2 GiB; only the bytes present count.
    expect(inspectWav(buildWav({ sampleRate: 8000, dataSize: 0xffffffff, data: new Uint8Array(8000) }), 1).frames).toBe(4000);
  });

  it('refuses float samples that are not finite', () => {
    const bytes = buildWav({ formatTag: 3, bitsPerSample: 32, data: float32Bytes([0, Number.NaN]) });
    const err = thrown(() => inspectAndDecode(bytes));
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toMatch(/frame 1 is not a finite number/);
  });

  it('refuses a WavInfo that does not match the bytes', () => {
    const info = inspectWav(valid);
    expect(thrown(() => decodeWav(valid.slice(0, 46), info))).toBeInstanceOf(InvalidInput);
  });
});

describe('WAV parsing on arbitrary and mutated input (property)', () => {
  /** Either succeeds with sizes bounded by the bytes present, or throws an HttpError. */
  function checkBytes(bytes: Uint8Array): void {
    let result: ReturnType<typeof inspectAndDecode>;
    try {
      result = inspectAndDecode(bytes, 600);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      expect(err.status).toBeGreaterThanOrEqual(400);
      expect(err.status).toBeLessThan(500);
      return;
    }
    const { info, mono } = result;
    expect(info.dataOffset + info.frames * info.blockAlign).toBeLessThanOrEqual(bytes.length);
    expect(mono.length).toBe(info.frames);
    expect(mono.length * info.blockAlign).toBeLessThanOrEqual(bytes.length);
    for (const value of mono) expect(Number.isFinite(value)).toBe(true);
  }

  it('never throws anything but an HttpError on arbitrary bytes, bare or behind a RIFF/WAVE prefix', () => {
    const prefix = new TextEncoder().encode('RIFF\xff\xff\xff\xffWAVE');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (body, withPrefix) => {
        checkBytes(withPrefix ? new Uint8Array([...prefix, ...body]) : body);
      }),
      { numRuns: 2000 },
    );
  });

  const seeds = [
    buildWav({ channels: 2, sampleRate: 22050, data: pcm16Bytes(new Array(64).fill(0.1)) }),
    buildWav({
      formatTag: 3,
      bitsPerSample: 32,
      sampleRate: 44100,
      data: float32Bytes(new Array(32).fill(-0.2)),
      extraChunks: [{ id: 'fact', body: new Uint8Array(4) }],
    }),
    buildWav({ formatTag: 0xfffe, subformat: 3, bitsPerSample: 32, channels: 2, data: float32Bytes(new Array(32).fill(0.3)) }),
    buildWav({ dataSize: 0xffffffff, data: pcm16Bytes(new Array(50).fill(0.4)) }),
  ];

  it('never throws anything but an HttpError, nor trusts a lying size, on mutated valid headers', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.record({ at: fc.nat({ max: 79 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat({ max: 300 }), { nil: undefined }),
        (seed, mutations, cutAt) => {
          const bytes = seed.slice(0, cutAt ?? seed.length);
          for (const { at, value } of mutations) if (at < bytes.length) bytes[at] = value;
          checkBytes(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('answers within the bytes present for every declared size of a data chunk', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (dataSize) => {
        checkBytes(buildWav({ dataSize, data: pcm16Bytes(new Array(10).fill(0.5)) }));
      }),
      { numRuns: 1000 },
    );
  });
});
