// Small builders for v2 infer requests used across tests and benchmarks.

export interface JsonTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

export function tensor(name: string, datatype: string, shape: number[], data: ArrayLike<number> | unknown[]): JsonTensor {
  return { name, datatype, shape, data: Array.from(data as ArrayLike<unknown>) };
}

export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** Silero VAD v5 at 16 kHz: 512 new samples preceded by the previous frame's last 64. */
export const sileroFrame = { samples: 512, context: 64, sampleRate: 16000 } as const;

export function sileroFrameInput(samples: Float32Array, frameIndex: number): Float32Array {
  const { samples: size, context } = sileroFrame;
  const input = new Float32Array(context + size);
  const start = frameIndex * size;
  for (let i = 0; i < input.length; i++) {
    const at = start - context + i;
    input[i] = at >= 0 && at < samples.length ? samples[at]! : 0;
  }
  return input;
}

/** A deterministic 48×192 RGB line-like pattern in PaddleOCR's [-1, 1] normalisation. */
export function textLinePattern(width = 192, height = 48): Float32Array {
  const pixels = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const ink = y > 12 && y < 36 && (x % 17 < 4 || (y > 22 && y < 26 && x % 29 < 20)) ? 1 : 0;
        pixels[c * height * width + y * width + x] = ink ? -0.8 : 0.9;
      }
    }
  }
  return pixels;
}
