// The geometry under detection: minimum-area rectangles, corner order, the crop's projective map,
// DB post-processing on synthetic probability maps, and PaddleOCR's reading order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boxesFromMap } from '../../../models/tasks/ocr/db-postprocess.ts';
import { paddleOcrSettings } from '../../../models/tasks/ocr/settings.ts';
import { convexHull, minAreaRect, orderClockwise, squareToQuad, type Point, type Quad } from '../../../models/tasks/ocr/geometry.ts';
import { flipLine, lineFromBox } from '../../../models/tasks/ocr/line-crop.ts';
import { sortBoxes, turnedPageOrder } from '../../../models/tasks/ocr/reading-order.ts';

function mapWith(
  width: number,
  height: number,
  rects: [number, number, number, number][],
  value = 0.9,
): { data: Float32Array; width: number; height: number } {
  const data = new Float32Array(width * height);
  for (const [x0, y0, x1, y1] of rects) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = value;
  return { data, width, height };
}

describe('minAreaRect', () => {
  it('finds a rotated rectangle from its corners and inner points', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: Math.PI, noNaN: true }),
        fc.double({ min: 5, max: 200, noNaN: true }),
        fc.double({ min: 1, max: 50, noNaN: true }),
        (angle, w, h) => {
          const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
          const corner = (s: number, t: number): Point => [100 + ux * s * w - uy * t * h, 100 + uy * s * w + ux * t * h];
          const points = [corner(0, 0), corner(1, 0), corner(1, 1), corner(0, 1), corner(0.5, 0.5), corner(0.2, 0.7)];
          const rect = minAreaRect(convexHull(points));
          expect(rect.width * rect.height).toBeCloseTo(w * h, 4);
          expect(Math.min(rect.width, rect.height)).toBeCloseTo(Math.min(w, h), 4);
        },
      ),
    );
  });
});

describe('orderClockwise', () => {
  it('orders any permutation of an upright box from top-left, clockwise', () => {
    const box: Quad = [
      [10, 5],
      [50, 5],
      [50, 20],
      [10, 20],
    ];
    for (const order of [
      [0, 1, 2, 3],
      [2, 0, 3, 1],
      [3, 2, 1, 0],
      [1, 3, 0, 2],
    ]) {
      expect(orderClockwise(order.map((i) => box[i]!) as Quad)).toEqual(box);
    }
  });
});

describe('squareToQuad', () => {
  it('maps the unit square corners to the quad, perspective included', () => {
    const quad: Quad = [
      [10, 10],
      [100, 20],
      [90, 80],
      [5, 60],
    ];
    const m = squareToQuad(quad);
    const map = (u: number, v: number): Point => {
      const w = m.g * u + m.h * v + 1;
      return [(m.a * u + m.b * v + m.c) / w, (m.d * u + m.e * v + m.f) / w];
    };
    [map(0, 0), map(1, 0), map(1, 1), map(0, 1)].forEach((p, i) => {
      expect(p[0]).toBeCloseTo(quad[i]![0], 9);
      expect(p[1]).toBeCloseTo(quad[i]![1], 9);
    });
  });
});

describe('boxesFromMap', () => {
  it('gives one box per text region, grown by the unclip offset and scaled to the image', () => {
    // A 41x9-pixel region in a 100x50 map of an image twice as large.
    const boxes = boxesFromMap(mapWith(100, 50, [[20, 10, 60, 18]]), 200, 100, paddleOcrSettings);
    expect(boxes).toHaveLength(1);
    // Contour 40x8 (pixel centres), offset 40*8*1.5/96 = 5 each side: 50x18 at (15, 5), doubled.
    expect(boxes[0]).toEqual([
      [30, 10],
      [130, 10],
      [130, 46],
      [30, 46],
    ]);
  });

  it('grows a line along it by unclipRatio and above and below it by unclipRatioAcross', () => {
    const boxes = boxesFromMap(mapWith(100, 50, [[20, 10, 60, 18]]), 200, 100, {
      ...paddleOcrSettings,
      unclipRatio: 1.5,
      unclipRatioAcross: 3,
    });
    // Along: 40*8*1.5/96 = 5 each end; across: 40*8*3/96 = 10 above and below: 50x28 at (15, 0), doubled.
    expect(boxes).toEqual([
      [
        [30, 0],
        [130, 0],
        [130, 56],
        [30, 56],
      ],
    ]);
  });

  it('drops regions thinner than the minimum, fainter than the box threshold, or of one pixel', () => {
    const thin = mapWith(100, 50, [[10, 10, 80, 11]]);
    const faint = mapWith(100, 50, [[10, 10, 80, 30]], 0.5);
    const dot = mapWith(100, 50, [[40, 40, 40, 40]]);
    expect(boxesFromMap(thin, 100, 50)).toEqual([]);
    expect(boxesFromMap(faint, 100, 50)).toEqual([]);
    expect(boxesFromMap(dot, 100, 50)).toEqual([]);
  });

  it('keeps boxes inside the image', () => {
    const boxes = boxesFromMap(mapWith(64, 32, [[0, 0, 63, 12]]), 64, 32);
    for (const [x, y] of boxes.flat()) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(63);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(31);
    }
  });
});

describe('sortBoxes', () => {
  const at = (x: number, y: number): Quad => [
    [x, y],
    [x + 50, y],
    [x + 50, y + 10],
    [x, y + 10],
  ];
  it('reads top to bottom, and left to right when tops are within 10 pixels', () => {
    expect(sortBoxes([at(200, 104), at(10, 100), at(10, 50), at(100, 98)])).toEqual([at(10, 50), at(10, 100), at(100, 98), at(200, 104)]);
  });
});

describe('lineFromBox', () => {
  it('reads a box 1.5 times taller than wide turned a quarter, and flips a line end to end', () => {
    const tall: Quad = [
      [0, 0],
      [20, 0],
      [20, 100],
      [0, 100],
    ];
    const line = lineFromBox(tall);
    expect(line).toEqual({
      quad: [
        [20, 0],
        [20, 100],
        [0, 100],
        [0, 0],
      ],
      cropWidth: 100,
      cropHeight: 20,
    });
    expect(flipLine(line).quad).toEqual([
      [0, 100],
      [0, 0],
      [20, 0],
      [20, 100],
    ]);
  });
});

describe('turnedPageOrder', () => {
  it('reads the lines of an upside-down page in the turned page order: the bottom line of the image first', () => {
    // Two lines of a 200×100 page turned 180°: as read, the upper line in the image is the second.
    const upper = flipLine(
      lineFromBox([
        [20, 10],
        [180, 10],
        [180, 30],
        [20, 30],
      ]),
    );
    const lower = flipLine(
      lineFromBox([
        [20, 60],
        [180, 60],
        [180, 80],
        [20, 80],
      ]),
    );
    expect(turnedPageOrder([upper, lower], 200, 100)).toEqual([lower, upper]);
  });
});
