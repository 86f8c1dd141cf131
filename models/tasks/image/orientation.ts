// A JPEG's EXIF orientation (tag 0x0112): cameras store pixels as the sensor read them and say in
// EXIF how to turn them for display. Browsers and OpenCV's imread apply it, so boxes drawn over the
// image as a viewer sees it line up only if the pipeline applies it too.

import type { RgbImage } from './rgb-image.ts';

/** The orientation (1-8) a JPEG's EXIF declares, 1 when it has none or it cannot be read. */
export function jpegOrientation(bytes: Uint8Array): number {
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    if (marker === 0xda || marker === 0xd9) return 1;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (marker === 0xe1 && length >= 8) {
      const orientation = exifOrientation(bytes.subarray(at + 4, Math.min(at + 2 + length, bytes.length)));
      if (orientation !== undefined) return orientation;
    }
    at += 2 + length;
  }
  return 1;
}

// APP1: "Exif\0\0", then a TIFF header (byte order, 42, offset of IFD0) and IFD0's 12-byte entries.
function exifOrientation(app1: Uint8Array): number | undefined {
  if (app1.length < 14 || String.fromCharCode(...app1.subarray(0, 4)) !== 'Exif' || app1[4] !== 0 || app1[5] !== 0) return undefined;
  const tiff = new DataView(app1.buffer, app1.byteOffset + 6, app1.length - 6);
  const order = tiff.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const little = order === 0x4949;
  const ifd = tiff.getUint32(4, little);
  if (ifd + 2 > tiff.byteLength) return undefined;
  const entries = tiff.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.byteLength) return undefined;
    if (tiff.getUint16(entry, little) === 0x0112) {
      const value = tiff.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/** The image as a viewer shows it under EXIF `orientation`; 5 to 8 swap width and height. */
export function applyOrientation(image: RgbImage, orientation: number): RgbImage {
  if (orientation < 2 || orientation > 8) return image;
  const { width: w, height: h, rgb } = image;
  const swaps = orientation >= 5;
  const outWidth = swaps ? h : w;
  const outHeight = swaps ? w : h;
  const out = new Uint8Array(rgb.length);
  // Source pixel of output (x, y) is (sx0 + x * sxx + y * sxy, sy0 + x * syx + y * syy).
  const [sx0, sxx, sxy, sy0, syx, syy] = (
    {
      2: [w - 1, -1, 0, 0, 0, 1],
      3: [w - 1, -1, 0, h - 1, 0, -1],
      4: [0, 1, 0, h - 1, 0, -1],
      5: [0, 0, 1, 0, 1, 0],
      6: [0, 0, 1, h - 1, -1, 0],
      7: [w - 1, 0, -1, h - 1, -1, 0],
      8: [w - 1, 0, -1, 0, 1, 0],
    } as Record<number, [number, number, number, number, number, number]>
  )[orientation]!;
  for (let y = 0, o = 0; y < outHeight; y++) {
    let sx = sx0 + y * sxy;
    let sy = sy0 + y * syy;
    for (let x = 0; x < outWidth; x++, o += 3, sx += sxx, sy += syx) {
      const s = (sy * w + sx) * 3;
      out[o] = rgb[s]!;
      out[o + 1] = rgb[s + 1]!;
      out[o + 2] = rgb[s + 2]!;
    }
  }
  return { width: outWidth, height: outHeight, rgb: out };
}
