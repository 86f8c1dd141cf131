// Text lines rectified out of the image: the box's quadrilateral mapped onto an upright rectangle
// (PaddleOCR's get_rotate_crop_image), sampled straight at the size a model takes, normalised to
// [-1, 1] in BGR planes, in one pass per line.

import type { RgbImage } from '../image/rgb-image.ts';
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
export function sampleLine(
  image: RgbImage,
  line: Line,
  outWidth: number,
  outHeight: number,
  tensor: Float32Array,
  row: number,
  tensorWidth: number,
  options: SampleOptions = {},
): void {
  if (options.resize === 'area' && (line.cropWidth > outWidth || line.cropHeight > outHeight)) {
    sampleLineArea(image, line, outWidth, outHeight, tensor, row, tensorWidth);
  } else {
    sampleLineBilinear(image, line, outWidth, outHeight, tensor, row, tensorWidth);
  }
  if (options.padding === 'edge') padWithEdge(tensor, row, outWidth, outHeight, tensorWidth);
}

export interface SampleOptions {
  /** 'area' averages every crop pixel under an output pixel when shrinking; 'bilinear' (default) takes four. */
  resize?: 'bilinear' | 'area';
  /** 'edge' fills the row past `outWidth` with the line's last column; by default it is left as it is (zero). */
  padding?: 'zero' | 'edge';
}

function padWithEdge(tensor: Float32Array, row: number, outWidth: number, outHeight: number, tensorWidth: number): void {
  if (outWidth >= tensorWidth || outWidth < 1) return;
  const plane = outHeight * tensorWidth;
  for (let p = 0; p < 3; p++) {
    for (let y = 0; y < outHeight; y++) {
      const start = row * 3 * plane + p * plane + y * tensorWidth;
      tensor.fill(tensor[start + outWidth - 1]!, start + outWidth, start + tensorWidth);
    }
  }
}

/**
 * Shrinking with each output pixel the mean of an n × n grid of bilinear samples spread over the crop
 * pixels it covers (n the shrink factor rounded up): cv2's INTER_AREA in effect, so thin strokes and
 * gaps between words are averaged in rather than skipped.
 */
function sampleLineArea(
  image: RgbImage,
  line: Line,
  outWidth: number,
  outHeight: number,
  tensor: Float32Array,
  row: number,
  tensorWidth: number,
): void {
  const { a, b, c, d, e, f, g, h } = squareToQuad(line.quad);
  const { rgb, width, height } = image;
  const plane = outHeight * tensorWidth;
  const base = row * 3 * plane;
  const maxX = width - 1;
  const maxY = height - 1;
  const cropW = Math.max(line.cropWidth, 1);
  const cropH = Math.max(line.cropHeight, 1);
  const nx = Math.max(1, Math.ceil(cropW / outWidth));
  const ny = Math.max(1, Math.ceil(cropH / outHeight));
  const weight = 1 / (nx * ny);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let j = 0; j < ny; j++) {
        const v = (((y + (j + 0.5) / ny) * cropH) / outHeight - 0.5) / cropH;
        for (let i = 0; i < nx; i++) {
          const u = (((x + (i + 0.5) / nx) * cropW) / outWidth - 0.5) / cropW;
          const w = g * u + h * v + 1;
          let sx = (a * u + b * v + c) / w;
          let sy = (d * u + e * v + f) / w;
          sx = sx < 0 ? 0 : Math.min(sx, maxX);
          sy = sy < 0 ? 0 : Math.min(sy, maxY);
          const x0 = sx | 0;
          const y0 = sy | 0;
          const fx = sx - x0;
          const fy = sy - y0;
          const p00 = (y0 * width + x0) * 3;
          const p01 = x0 < maxX ? p00 + 3 : p00;
          const p10 = y0 < maxY ? p00 + width * 3 : p00;
          const p11 = x0 < maxX ? p10 + 3 : p10;
          const w11 = fx * fy,
            w01 = fx - w11,
            w10 = fy - w11,
            w00 = 1 - fx - w10;
          red += rgb[p00]! * w00 + rgb[p01]! * w01 + rgb[p10]! * w10 + rgb[p11]! * w11;
          green += rgb[p00 + 1]! * w00 + rgb[p01 + 1]! * w01 + rgb[p10 + 1]! * w10 + rgb[p11 + 1]! * w11;
          blue += rgb[p00 + 2]! * w00 + rgb[p01 + 2]! * w01 + rgb[p10 + 2]! * w10 + rgb[p11 + 2]! * w11;
        }
      }
      const o = base + y * tensorWidth + x;
      tensor[o] = blue * weight * (1 / 127.5) - 1;
      tensor[o + plane] = green * weight * (1 / 127.5) - 1;
      tensor[o + 2 * plane] = red * weight * (1 / 127.5) - 1;
    }
  }
}

function sampleLineBilinear(
  image: RgbImage,
  line: Line,
  outWidth: number,
  outHeight: number,
  tensor: Float32Array,
  row: number,
  tensorWidth: number,
): void {
  const { a, b, c, d, e, f, g, h } = squareToQuad(line.quad);
  const { rgb, width, height } = image;
  const plane = outHeight * tensorWidth;
  const base = row * 3 * plane;
  const maxX = width - 1;
  const maxY = height - 1;
  const cropW = Math.max(line.cropWidth, 1);
  const cropH = Math.max(line.cropHeight, 1);
  // Output x → unit-square u is affine: u = u0 + x * du; so are the projective map's numerators and
  // denominator along a row, which are stepped instead of recomputed.
  const du = 1 / outWidth;
  const u0 = (0.5 * cropW) / outWidth / cropW - 0.5 / cropW;
  for (let y = 0; y < outHeight; y++) {
    const v = ((y + 0.5) * (cropH / outHeight) - 0.5) / cropH;
    let nx = a * u0 + b * v + c;
    let ny = d * u0 + e * v + f;
    let w = g * u0 + h * v + 1;
    const dnx = a * du,
      dny = d * du,
      dw = g * du;
    let o = base + y * tensorWidth;
    for (let x = 0; x < outWidth; x++, o++, nx += dnx, ny += dny, w += dw) {
      let sx = nx / w;
      let sy = ny / w;
      sx = sx < 0 ? 0 : Math.min(sx, maxX);
      sy = sy < 0 ? 0 : Math.min(sy, maxY);
      const x0 = sx | 0;
      const y0 = sy | 0;
      const fx = sx - x0;
      const fy = sy - y0;
      const p00 = (y0 * width + x0) * 3;
      const p01 = x0 < maxX ? p00 + 3 : p00;
      const p10 = y0 < maxY ? p00 + width * 3 : p00;
      const p11 = x0 < maxX ? p10 + 3 : p10;
      const w11 = fx * fy,
        w01 = fx - w11,
        w10 = fy - w11,
        w00 = 1 - fx - w10;
      // (value / 255 - 0.5) / 0.5, planes B, G, R.
      tensor[o] = (rgb[p00 + 2]! * w00 + rgb[p01 + 2]! * w01 + rgb[p10 + 2]! * w10 + rgb[p11 + 2]! * w11) * (1 / 127.5) - 1;
      tensor[o + plane] = (rgb[p00 + 1]! * w00 + rgb[p01 + 1]! * w01 + rgb[p10 + 1]! * w10 + rgb[p11 + 1]! * w11) * (1 / 127.5) - 1;
      tensor[o + 2 * plane] = (rgb[p00]! * w00 + rgb[p01]! * w01 + rgb[p10]! * w10 + rgb[p11]! * w11) * (1 / 127.5) - 1;
    }
  }
}
