// Text lines rectified out of the image: the box's quadrilateral mapped onto an upright rectangle
// (PaddleOCR's get_rotate_crop_image), sampled straight at the size a model takes, normalised to
// [-1, 1] in BGR planes, in one pass per line.

import type { RgbImage } from '../image/decode.ts';
import { distance, squareToQuad, type Quad } from './geometry.ts';

/** A detected line, its corners in reading orientation: top-left, top-right, bottom-right, bottom-left as read. */
export interface Line {
  quad: Quad;
  /** Size of PaddleOCR's rectified crop, before resizing. */
  cropWidth: number;
  cropHeight: number;
}

/**
 * The line for a detected box. A box at least 1.5 times taller than wide is read turned a quarter
 * counter-clockwise (np.rot90 in get_rotate_crop_image): its top-right corner becomes the top-left.
 */
export function lineFromBox(box: Quad): Line {
  const cropWidth = Math.trunc(Math.max(distance(box[0], box[1]), distance(box[2], box[3])));
  const cropHeight = Math.trunc(Math.max(distance(box[0], box[3]), distance(box[1], box[2])));
  if (cropHeight >= 1.5 * cropWidth) {
    return { quad: [box[1], box[2], box[3], box[0]], cropWidth: cropHeight, cropHeight: cropWidth };
  }
  return { quad: box, cropWidth, cropHeight };
}

/** The same line read upside down. */
export function flipLine(line: Line): Line {
  const [tl, tr, br, bl] = line.quad;
  return { ...line, quad: [br, bl, tl, tr] };
}

/**
 * Samples `line` at `outWidth` x `outHeight` into row `row` of an NCHW tensor whose planes are
 * `tensorWidth` wide, leaving the rest of the row as it is (zero padding). Output pixels map to the
 * crop as cv2.resize does (pixel centres), the crop to the image by the box's perspective map, and
 * the image is sampled bilinearly with edges replicated (warpPerspective's BORDER_REPLICATE).
 */
export function sampleLine(image: RgbImage, line: Line, outWidth: number, outHeight: number, tensor: Float32Array, row: number, tensorWidth: number): void {
  const { a, b, c, d, e, f, g, h } = squareToQuad(line.quad);
  const { rgb, width, height } = image;
  const plane = outHeight * tensorWidth;
  const base = row * 3 * plane;
  const maxX = width - 1;
  const maxY = height - 1;
  const cropW = Math.max(line.cropWidth, 1);
  const cropH = Math.max(line.cropHeight, 1);
  const toCropX = cropW / outWidth;
  const toCropY = cropH / outHeight;
  for (let y = 0; y < outHeight; y++) {
    const v = ((y + 0.5) * toCropY - 0.5) / cropH;
    for (let x = 0; x < outWidth; x++) {
      const u = ((x + 0.5) * toCropX - 0.5) / cropW;
      const w = g * u + h * v + 1;
      let sx = (a * u + b * v + c) / w;
      let sy = (d * u + e * v + f) / w;
      sx = sx < 0 ? 0 : sx > maxX ? maxX : sx;
      sy = sy < 0 ? 0 : sy > maxY ? maxY : sy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const p00 = (y0 * width + x0) * 3, p01 = (y0 * width + x1) * 3, p10 = (y1 * width + x0) * 3, p11 = (y1 * width + x1) * 3;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      const o = base + y * tensorWidth + x;
      // (value / 255 - 0.5) / 0.5, planes B, G, R.
      tensor[o] = (rgb[p00 + 2]! * w00 + rgb[p01 + 2]! * w01 + rgb[p10 + 2]! * w10 + rgb[p11 + 2]! * w11) / 127.5 - 1;
      tensor[o + plane] = (rgb[p00 + 1]! * w00 + rgb[p01 + 1]! * w01 + rgb[p10 + 1]! * w10 + rgb[p11 + 1]! * w11) / 127.5 - 1;
      tensor[o + 2 * plane] = (rgb[p00]! * w00 + rgb[p01]! * w01 + rgb[p10]! * w10 + rgb[p11]! * w11) / 127.5 - 1;
    }
  }
}
