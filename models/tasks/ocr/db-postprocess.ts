// Differentiable Binarization post-processing (PaddleOCR ppocr/postprocess/db_postprocess.py, the
// settings of tools/infer for PP-OCRv4): the detector's probability map to text boxes in image pixels.

import { convexHull, distance, minAreaRect, orderClockwise, rectCorners, type Point, type Quad, type RotatedRect } from './geometry.ts';
import { defaultOcrSettings, type OcrPipelineSettings } from './settings.ts';

/** The settings the pipeline varies (thresholds, margin) are OcrPipelineSettings; these stay PaddleOCR's. */
const fixed = {
  maxCandidates: 1000,
  /** Shorter side, in map pixels, below which a region is noise. */
  minSize: 3,
} as const;

export type DbSettings = Pick<OcrPipelineSettings, 'binaryThreshold' | 'boxThreshold' | 'unclipRatio' | 'unclipRatioAcross'>;

export interface ProbabilityMap {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * The boxes of the connected text regions of `map`, as rectangles (corners clockwise from top-left)
 * in the pixels of an image of `imageWidth` x `imageHeight`, in no particular order.
 */
export function boxesFromMap(
  map: ProbabilityMap,
  imageWidth: number,
  imageHeight: number,
  settings: DbSettings = defaultOcrSettings,
): Quad[] {
  const boxes: Quad[] = [];
  for (const hull of regionHulls(map, settings.binaryThreshold)) {
    const rect = minAreaRect(hull);
    if (Math.min(rect.width, rect.height) < fixed.minSize) continue;
    if (boxScoreFast(map, rectCorners(rect)) < settings.boxThreshold) continue;
    const grown = unclip(rect, settings.unclipRatio, settings.unclipRatioAcross);
    if (Math.min(grown.width, grown.height) < fixed.minSize + 2) continue;
    const scaled = rectCorners(grown).map(
      ([x, y]): Point => [
        clamp(Math.round((x / map.width) * imageWidth), 0, imageWidth),
        clamp(Math.round((y / map.height) * imageHeight), 0, imageHeight),
      ],
    ) as Quad;
    // predict_det's filter_tag_det_res: clockwise order, inside the image, more than 3 pixels each way.
    const box = orderClockwise(scaled).map(([x, y]): Point => [clamp(x, 0, imageWidth - 1), clamp(y, 0, imageHeight - 1)]) as Quad;
    if (Math.trunc(distance(box[0], box[1])) <= 3 || Math.trunc(distance(box[0], box[3])) <= 3) continue;
    boxes.push(box);
  }
  return boxes;
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : Math.min(value, high);
}

/**
 * The convex hull of each 8-connected region of pixels over the threshold, at most `maxCandidates`.
 * One flood fill over the map; a region's hull needs only the leftmost and rightmost pixel of each of
 * its rows, kept in two row-indexed arrays shared by all regions.
 */
function* regionHulls(map: ProbabilityMap, threshold: number): Generator<Point[]> {
  const { data, width, height } = map;
  const pixels = width * height;
  // 0 background, 1 text not yet visited, 2 visited.
  const state = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) state[i] = data[i]! > threshold ? 1 : 0;
  const stack = new Int32Array(pixels);
  const rowMin = new Int32Array(height).fill(width);
  const rowMax = new Int32Array(height).fill(-1);
  let regions = 0;
  for (let seed = 0; seed < pixels && regions < fixed.maxCandidates; seed++) {
    if (state[seed] !== 1) continue;
    regions++;
    let top = 0;
    stack[top++] = seed;
    state[seed] = 2;
    let firstRow = height;
    let lastRow = -1;
    while (top > 0) {
      const i = stack[--top]!;
      const y = (i / width) | 0;
      const x = i - y * width;
      if (x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
      if (y < firstRow) firstRow = y;
      if (y > lastRow) lastRow = y;
      const x0 = x > 0 ? x - 1 : x;
      const x1 = x < width - 1 ? x + 1 : x;
      const y0 = y > 0 ? y - 1 : y;
      const y1 = y < height - 1 ? y + 1 : y;
      for (let ny = y0; ny <= y1; ny++) {
        for (let nx = x0, j = ny * width + x0; nx <= x1; nx++, j++) {
          if (state[j] === 1) {
            state[j] = 2;
            stack[top++] = j;
          }
        }
      }
    }
    const points: Point[] = [];
    for (let y = firstRow; y <= lastRow; y++) {
      points.push([rowMin[y]!, y]);
      if (rowMax[y] !== rowMin[y]) points.push([rowMax[y]!, y]);
      rowMin[y] = width;
      rowMax[y] = -1;
    }
    yield convexHull(points);
  }
}

/**
 * Mean probability inside `box` (PaddleOCR's box_score_fast: the box filled over its bounding
 * rectangle). The box is convex, so each row crosses it in one run of pixels.
 */
function boxScoreFast(map: ProbabilityMap, box: Quad): number {
  const { data, width, height } = map;
  const xs = box.map((p) => p[0]);
  const ys = box.map((p) => p[1]);
  const xmin = clamp(Math.floor(Math.min(...xs)), 0, width - 1);
  const xmax = clamp(Math.ceil(Math.max(...xs)), 0, width - 1);
  const ymin = clamp(Math.floor(Math.min(...ys)), 0, height - 1);
  const ymax = clamp(Math.ceil(Math.max(...ys)), 0, height - 1);
  let sum = 0;
  let count = 0;
  for (let y = ymin; y <= ymax; y++) {
    let left = Infinity;
    let right = -Infinity;
    for (let e = 0; e < 4; e++) {
      const [ax, ay] = box[e]!;
      const [bx, by] = box[(e + 1) % 4]!;
      if ((y < ay && y < by) || (y > ay && y > by)) continue;
      if (ay === by) {
        left = Math.min(left, ax, bx);
        right = Math.max(right, ax, bx);
      } else {
        const x = ax + ((y - ay) / (by - ay)) * (bx - ax);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
    const from = Math.max(xmin, Math.ceil(left - 0.5));
    const to = Math.min(xmax, Math.floor(right + 0.5));
    for (let x = from, i = y * width + from; x <= to; x++, i++) sum += data[i]!;
    if (to >= from) count += to - from + 1;
  }
  return count === 0 ? 0 : sum / count;
}

/**
 * The rectangle grown by DB's offset distance on every side. PaddleOCR offsets the polygon with
 * pyclipper (round joins) and takes the minimum-area rectangle again; for a rectangle that gives
 * exactly the rectangle with each side pushed out by the distance, computed here directly.
 */
function unclip(rect: RotatedRect, ratio: number, acrossRatio: number): RotatedRect {
  const perimeter = 2 * (rect.width + rect.height);
  if (perimeter === 0) return rect;
  const along = (rect.width * rect.height * ratio) / perimeter;
  const across = (rect.width * rect.height * acrossRatio) / perimeter;
  // The longer side runs along the line: its ends grow by `ratio`'s offset, its sides by `acrossRatio`'s.
  return rect.width >= rect.height
    ? { ...rect, width: rect.width + 2 * along, height: rect.height + 2 * across }
    : { ...rect, width: rect.width + 2 * across, height: rect.height + 2 * along };
}
