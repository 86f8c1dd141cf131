// Lines in reading order, as PaddleOCR's sorted_boxes: top to bottom by the top-left corner, then
// boxes whose tops lie within 10 pixels of each other left to right.

import type { Quad } from './geometry.ts';
import type { Line } from './line-crop.ts';

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

/**
 * The lines of a page turned upside down (most lines flipped by the direction classifier, `quad`
 * already given as read) in the turned page's reading order: PaddleOCR sorts boxes before it
 * classifies them, which reads such a page bottom line first.
 */
export function turnedPageOrder(lines: readonly Line[], width: number, height: number): Line[] {
  const byTurnedQuad = new Map<Quad, Line>();
  for (const line of lines) byTurnedQuad.set(line.quad.map(([x, y]) => [width - x, height - y]) as Quad, line);
  return sortBoxes([...byTurnedQuad.keys()]).map((quad) => byTurnedQuad.get(quad)!);
}
