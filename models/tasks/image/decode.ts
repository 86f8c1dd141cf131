// PNG or JPEG bytes to 8-bit RGB in code that runs in workerd and Node alike (png.ts; jpeg-js for
// JPEG). Call after `inspectImage`: the declared size is already within the limit.

import jpeg from 'jpeg-js';
import { HttpError, InvalidInput } from '../../../protocol/errors.ts';
import type { ImageHeader } from './header.ts';
import { applyOrientation, jpegOrientation } from './orientation.ts';
import { decodePng } from './png.ts';
import type { RgbImage } from './rgb-image.ts';

/**
 * Decodes an image whose header `inspectImage` accepted, a JPEG turned upright by its EXIF
 * orientation (so width and height may swap); any decoding failure is InvalidInput.
 */
export async function decodeImage(bytes: Uint8Array, header: ImageHeader): Promise<RgbImage> {
  try {
    const image = header.format === 'png' ? await decodePng(bytes, header) : decodeJpeg(bytes, header);
    if (image.width !== header.width || image.height !== header.height) {
      throw new InvalidInput(
        `the ${header.format.toUpperCase()} decodes to ${image.width}x${image.height}, not the ${header.width}x${header.height} its header declares`,
      );
    }
    // Turned as EXIF says, as browsers show it (and OpenCV's imread reads it).
    return header.format === 'jpeg' ? applyOrientation(image, jpegOrientation(bytes)) : image;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new InvalidInput(`the ${header.format.toUpperCase()} image could not be decoded: ${reason}`);
  }
}

function decodeJpeg(bytes: Uint8Array, header: ImageHeader): RgbImage {
  const pixels = header.width * header.height;
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    // Already checked from the header; these make jpeg-js refuse anything the header did not say.
    maxResolutionInMP: Math.ceil(pixels / 1e6) + 1,
    // Its block buffers take ~13 bytes per pixel, the RGB output 3, Huffman tables and such a little more.
    maxMemoryUsageInMB: Math.ceil((pixels * 20) / 2 ** 20) + 64,
  });
  return { width: decoded.width, height: decoded.height, rgb: decoded.data };
}
