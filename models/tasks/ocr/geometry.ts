// Plane geometry for text boxes: convex hull, minimum-area rotated rectangle (rotating calipers),
// corner ordering, and the perspective map from a crop's rectangle to its box in the image.

export type Point = [number, number];
/** Corners top-left, top-right, bottom-right, bottom-left. */
export type Quad = [Point, Point, Point, Point];

export interface RotatedRect {
  center: Point;
  /** Length along `axis`, and across it. */
  width: number;
  height: number;
  /** Unit vector of the `width` side. */
  axis: Point;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise, without repeated end point. */
export function convexHull(points: Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length <= 2) return sorted;
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * The smallest-area rectangle around a convex polygon: one of its sides lies on a hull edge, so
 * trying each edge's direction finds it (as OpenCV's minAreaRect does). A hull of one or two points
 * gives a rectangle of zero height.
 */
export function minAreaRect(hull: Point[]): RotatedRect {
  if (hull.length === 1) return { center: [hull[0]![0], hull[0]![1]], width: 0, height: 0, axis: [1, 0] };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (length === 0) continue;
    const ux = (b[0] - a[0]) / length;
    const uy = (b[1] - a[1]) / length;
    let minU = Infinity,
      maxU = -Infinity,
      minV = Infinity,
      maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { center: [cu * ux - cv * uy, cu * uy + cv * ux], width: maxU - minU, height: maxV - minV, axis: [ux, uy] };
    }
  }
  return best!;
}

/**
 * The rectangle's corners in PaddleOCR's get_mini_boxes order: sorted by x, the upper of the two
 * leftmost first, then the upper and lower of the two rightmost, then the lower leftmost.
 */
export function rectCorners(rect: RotatedRect): Quad {
  const [cx, cy] = rect.center;
  const [ux, uy] = rect.axis;
  const hw = rect.width / 2;
  const hh = rect.height / 2;
  const pts: Point[] = [
    [cx - ux * hw + uy * hh, cy - uy * hw - ux * hh],
    [cx + ux * hw + uy * hh, cy + uy * hw - ux * hh],
    [cx + ux * hw - uy * hh, cy + uy * hw + ux * hh],
    [cx - ux * hw - uy * hh, cy - uy * hw + ux * hh],
  ];
  pts.sort((a, b) => a[0] - b[0]);
  const [left1, left2, right1, right2] = pts as Quad;
  const [topLeft, bottomLeft] = left2[1] > left1[1] ? [left1, left2] : [left2, left1];
  const [topRight, bottomRight] = right2[1] > right1[1] ? [right1, right2] : [right2, right1];
  return [topLeft, topRight, bottomRight, bottomLeft];
}

/**
 * Corners ordered clockwise from top-left by x+y (smallest top-left, largest bottom-right) and y-x
 * for the other two, as PaddleOCR's order_points_clockwise.
 */
export function orderClockwise(quad: Quad): Quad {
  const sum = (i: number) => quad[i]![0] + quad[i]![1];
  const diff = (i: number) => quad[i]![1] - quad[i]![0];
  let tl = 0;
  let br = 0;
  for (let i = 1; i < 4; i++) {
    if (sum(i) < sum(tl)) tl = i;
    if (sum(i) > sum(br)) br = i;
  }
  if (br === tl) br = (tl + 2) % 4;
  const idx = [0, 1, 2, 3];
  const rest = idx.filter((i) => i !== tl && i !== br);
  const [tr, bl] = diff(rest[0]!) <= diff(rest[1]!) ? [rest[0]!, rest[1]!] : [rest[1]!, rest[0]!];
  return [quad[tl]!, quad[tr]!, quad[br]!, quad[bl]!];
}

export function distance(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** Coefficients of the projective map from the unit square's corners to `quad`'s (Heckbert 1989). */
export interface SquareToQuad {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
  g: number;
  h: number;
}

export function squareToQuad(quad: Quad): SquareToQuad {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = quad;
  const sx = x0 - x1 + x2 - x3;
  const sy = y0 - y1 + y2 - y3;
  if (Math.abs(sx) < 1e-9 && Math.abs(sy) < 1e-9) {
    return { a: x1 - x0, b: x3 - x0, c: x0, d: y1 - y0, e: y3 - y0, f: y0, g: 0, h: 0 };
  }
  const dx1 = x1 - x2,
    dx2 = x3 - x2,
    dy1 = y1 - y2,
    dy2 = y3 - y2;
  const det = dx1 * dy2 - dx2 * dy1;
  const g = det === 0 ? 0 : (sx * dy2 - dx2 * sy) / det;
  const h = det === 0 ? 0 : (dx1 * sy - sx * dy1) / det;
  return { a: x1 - x0 + g * x1, b: x3 - x0 + h * x3, c: x0, d: y1 - y0 + g * y1, e: y3 - y0 + h * y3, f: y0, g, h };
}
