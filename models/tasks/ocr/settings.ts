// The OCR pipeline's geometry and preprocessing: the figures that decide how much of the image around
// each detected line the recogniser sees and how the line is fed to it. The defaults are chosen by
// measurement (bench/ocr-settings.ts) on the printed-text evaluation sets
// (test/fixtures/evaluation/ocr-printed/); where they depart from PaddleOCR's tools/infer settings the
// field says why, with the figures.

export interface OcrPipelineSettings {
  /** DB binarisation: a pixel of the detector's map is text when its probability exceeds this (PaddleOCR 0.3). */
  binaryThreshold: number;
  /** A region is kept when the mean probability inside its box reaches this (PaddleOCR 0.6). */
  boxThreshold: number;
  /** Boxes grow by area × ratio / perimeter at both ends of the line (PaddleOCR 1.5, on every side). */
  unclipRatio: number;
  /** The same above and below the line (PaddleOCR: the same ratio as along it). */
  unclipRatioAcross: number;
  /** Spaces the recogniser reads before the first or after the last character are dropped (PaddleOCR keeps them). */
  trimSpaces: boolean;
  /** The recogniser's space probability is weighed by this against the blank's and the letters' at each step (PaddleOCR 1). */
  spaceWeight: number;
  /** In a line with no CJK character, full-width punctuation (U+FF01–U+FF5E, e.g. '，') is read as its ASCII form (PaddleOCR keeps it). */
  asciiPunctuation: boolean;
  /** A line is turned by 180° only when the direction classifier says so with more than this (PaddleOCR 0.9); 1 never turns. */
  flipThreshold: number;
  /** Narrowest recogniser input, in pixels at height 48: shorter lines are padded to it (PaddleOCR 320). */
  recMinWidth: number;
  /** What pads a line narrower than its batch: 'zero' (PaddleOCR: mid-grey after normalising) or 'edge' (the crop's last column repeated). */
  recPadding: 'zero' | 'edge';
  /** How a line is resampled to height 48: 'bilinear' (cv2.resize's default, PaddleOCR) or 'area' (every source pixel averaged in). */
  recResize: 'bilinear' | 'area';
}

export const paddleOcrSettings: OcrPipelineSettings = {
  binaryThreshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  unclipRatioAcross: 1.5,
  trimSpaces: false,
  spaceWeight: 1,
  asciiPunctuation: false,
  flipThreshold: 0.9,
  recMinWidth: 320,
  recPadding: 'zero',
  recResize: 'bilinear',
};

/**
 * Measured by `node bench/ocr-settings.ts` on the printed sets (86 lines in 37 images: four fonts at
 * 14-40 px, PNG and JPEG q75-90, pages, dense pages, a two-column table, noise), float32 models. Each
 * figure is lines exact as printed / exact ignoring spaces, of 86:
 * - PaddleOCR's settings read 38/85: the recogniser sees the line's ink and little else and runs words
 *   together. Growing the boxes (unclip 2.5 both ways) reads 68/84; along the line alone (across 1.5)
 *   57/85, across 2.0 72/85, so the margin above and below matters most. 2.0 reads 80/86, 3.0 80/85
 *   (boxes reach into neighbouring lines), all with the other settings below.
 * - With that margin the recogniser reads a space before a short line ('␣Rent for May'): trimmed,
 *   +11 lines on the table (13/24 → 24/24).
 * - Spaces the model weighs just under the blank: weighted ×8 they win, 73 → 85/86 (×3 80, ×5 84, ×12 85);
 *   no line gained a space that was not printed.
 * - '，' for ',' in a Latin line: ASCII (+1).
 * - The direction classifier turned an upright 'Total due' at 0.9 (read 'anp eno'); at 0.99 none are
 *   turned wrongly and upside-down pages still are (ocr-eval-5's upside-down image, the tests).
 * - No effect on these sets, so PaddleOCR's kept: binarisation 0.3 (0.2 loses a 14 px line), box
 *   threshold, the 320-pixel minimum width, zero padding, bilinear resizing, lines per recogniser run.
 * Result: 85/86 exact as printed, 86/86 ignoring spaces, CER 0.1%.
 */
export const defaultOcrSettings: OcrPipelineSettings = {
  ...paddleOcrSettings,
  unclipRatio: 2.5,
  unclipRatioAcross: 2.5,
  trimSpaces: true,
  spaceWeight: 8,
  asciiPunctuation: true,
  flipThreshold: 0.99,
};
