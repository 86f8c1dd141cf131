// The detector's input (PaddleOCR DetResizeForTest with tools/infer's limit: longest side at most
// 960, each side rounded to a multiple of 32; then NormalizeImage): one bilinear resampling pass
// that writes the normalised planes directly.

import type { RgbImage } from '../image/rgb-image.ts';

const limitSideLength = 960;
const multiple = 32;
// ImageNet statistics applied to PaddleOCR's BGR planes in their order (plane 0 is blue).
const mean = [0.485, 0.456, 0.406] as const;
const std = [0.229, 0.224, 0.225] as const;

export interface DetInput {
  /** NCHW, N = 1, planes B, G, R. */
  data: Float32Array;
  width: number;
  height: number;
}

/** Python's round(): halves go to the even neighbour, as DetResizeForTest's sizes do. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

export function detInputSize(width: number, height: number): { width: number; height: number } {
  const longest = Math.max(width, height);
  const ratio = longest > limitSideLength ? limitSideLength / longest : 1;
  const size = (side: number) => Math.max(roundHalfEven(Math.trunc(side * ratio) / multiple) * multiple, multiple);
  return { width: size(width), height: size(height) };
}

/** Source index (×3) of the two neighbours and the weight of the second, per output position (cv2's pixel-centre alignment). */
function axisTaps(outSize: number, inSize: number, stride: number): { lo: Int32Array; hi: Int32Array; weight: Float32Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const weight = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const at = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    const i = Math.floor(at);
    lo[o] = i * stride;
    hi[o] = Math.min(i + 1, inSize - 1) * stride;
    weight[o] = at - i;
  }
  return { lo, hi, weight };
}

export function detInput(image: RgbImage): DetInput {
  const { width, height } = detInputSize(image.width, image.height);
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const cols = axisTaps(width, image.width, 3);
  const rows = axisTaps(height, image.height, image.width * 3);
  const { rgb } = image;
  // x/255 - mean) / std as one multiply-add per plane.
  const scaleB = 1 / (255 * std[0]),
    scaleG = 1 / (255 * std[1]),
    scaleR = 1 / (255 * std[2]);
  const offsetB = mean[0] / std[0],
    offsetG = mean[1] / std[1],
    offsetR = mean[2] / std[2];
  for (let y = 0, o = 0; y < height; y++) {
    const top = rows.lo[y]!;
    const bottom = rows.hi[y]!;
    const wy = rows.weight[y]!;
    for (let x = 0; x < width; x++, o++) {
      const left = cols.lo[x]!;
      const right = cols.hi[x]!;
      const wx = cols.weight[x]!;
      const w00 = (1 - wx) * (1 - wy),
        w01 = wx * (1 - wy),
        w10 = (1 - wx) * wy,
        w11 = wx * wy;
      const a = top + left,
        b = top + right,
        c = bottom + left,
        d = bottom + right;
      const r = rgb[a]! * w00 + rgb[b]! * w01 + rgb[c]! * w10 + rgb[d]! * w11;
      const g = rgb[a + 1]! * w00 + rgb[b + 1]! * w01 + rgb[c + 1]! * w10 + rgb[d + 1]! * w11;
      const bl = rgb[a + 2]! * w00 + rgb[b + 2]! * w01 + rgb[c + 2]! * w10 + rgb[d + 2]! * w11;
      data[o] = bl * scaleB - offsetB;
      data[plane + o] = g * scaleG - offsetG;
      data[2 * plane + o] = r * scaleR - offsetR;
    }
  }
  return { data, width, height };
}
