// The decoded image every OCR step reads: its own module, so the decoders (png.ts, orientation.ts)
// and decode.ts, which calls them, share it without importing each other.

/** Interleaved 8-bit RGB, row by row: `rgb[(y * width + x) * 3 + channel]`. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}
