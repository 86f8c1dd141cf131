// Lines in reading order, as PaddleOCR's sorted_boxes: top to bottom by the top-left corner, then
// boxes whose tops lie within 10 pixels of each other left to right.

import type { Quad } from './geometry.ts';

const sameLinePixels = 10;

export function sortBoxes(boxes: Quad[]): Quad[] {
  const sorted = [...boxes].sort((a, b) => a[0][1] - b[0][1] || a[0][0] - b[0][0]);
  for (let i = 0; i < sorted.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const next = sorted[j + 1]!;
      const current = sorted[j]!;
      if (Math.abs(next[0][1] - current[0][1]) < sameLinePixels && next[0][0] < current[0][0]) {
        sorted[j] = next;
        sorted[j + 1] = current;
      } else {
        break;
      }
    }
  }
  return sorted;
}
