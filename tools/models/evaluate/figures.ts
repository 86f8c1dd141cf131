// Task-level figures: what a derived version's answers keep of its source version's, computed from the
// pipelines' own outputs (lines read, speech decisions and segments). Pure: tested directly.

import type { OcrLine, SpeechSegment } from '../../../protocol/tasks.ts';

/** Named as the AccuracyBudget field they are gated by, without its min/max prefix. */
export type Figures = Record<string, number>;

/** Levenshtein distance over Unicode code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length]!;
}

type Box = OcrLine['box'];

/**
 * IoU of the axis-aligned rectangles around two boxes. The evaluation lines are level (or turned by
 * 180°), where the rectangle is the box; a rotated box would be scored on its bounding rectangle.
 */
export function boxIoU(a: Box, b: Box): number {
  const bounds = (box: Box) =>
    [
      Math.min(...box.map((p) => p[0])),
      Math.min(...box.map((p) => p[1])),
      Math.max(...box.map((p) => p[0])),
      Math.max(...box.map((p) => p[1])),
    ] as const;
  const [ax0, ay0, ax1, ay1] = bounds(a);
  const [bx0, by0, bx1, by1] = bounds(b);
  const iw = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const ih = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const inter = iw * ih;
  const union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return union > 0 ? inter / union : 0;
}

/** One image's lines as the source version read them, and as the candidate did. */
export interface OcrPair {
  source: readonly OcrLine[];
  candidate: readonly OcrLine[];
  /** The lines printed in the image, when known: both readings are scored against them, and the candidate may not read fewer as printed. */
  printed?: readonly string[];
}

/**
 * Each source line is paired with the candidate line whose box overlaps it most (IoU over one half;
 * none is a line the candidate lost, read as ''). A candidate line paired with no source line is text
 * the source did not read: its characters count as insertions in the character error rate.
 */
export function ocrFigures(pairs: readonly OcrPair[]): Figures {
  let lines = 0;
  let exact = 0;
  let exactIgnoringSpaces = 0;
  let errors = 0;
  let characters = 0;
  let iouSum = 0;
  const noSpaces = (s: string) => s.replace(/\s+/g, '');
  const printedPairs = pairs.filter((p) => p.printed);
  const asPrinted = (reading: 'source' | 'candidate') =>
    printedFigures(printedPairs.map((p) => ({ printed: p.printed!, read: p[reading].map((l) => l.text) })));
  for (const { source, candidate } of pairs) {
    const used = new Set<number>();
    for (const line of source) {
      let best = -1;
      let bestIoU = 0;
      candidate.forEach((c, i) => {
        const iou = boxIoU(line.box, c.box);
        if (iou > bestIoU) [best, bestIoU] = [i, iou];
      });
      iouSum += bestIoU;
      const matched = bestIoU > 0.5 && !used.has(best) ? candidate[best]! : undefined;
      if (matched) used.add(best);
      const read = matched?.text ?? '';
      lines++;
      characters += [...line.text].length;
      errors += editDistance(line.text, read);
      if (read === line.text) exact++;
      if (noSpaces(read) === noSpaces(line.text)) exactIgnoringSpaces++;
    }
    candidate.forEach((c, i) => {
      if (!used.has(i)) errors += [...c.text].length;
    });
  }
  return {
    lines,
    exactLineShare: lines ? exact / lines : 1,
    exactLineShareIgnoringSpaces: lines ? exactIgnoringSpaces / lines : 1,
    characterErrorRate: characters ? errors / characters : errors > 0 ? 1 : 0,
    meanBoxIoU: lines ? iouSum / lines : 1,
    ...(printedPairs.length ? printedComparison(asPrinted('source'), asPrinted('candidate')) : {}),
  };
}

/**
 * Both readings against the print: lines exact as printed, the same ignoring spaces, CER against the
 * print; and how many fewer lines the candidate reads as printed than the source (gated: a quantized
 * reading that merely differs from float32 may be the better one, one that loses printed lines is not).
 */
function printedComparison(source: PrintedFigures, candidate: PrintedFigures): Figures {
  const share = (n: number) => (source.printedLines ? n / source.printedLines : 1);
  return {
    printedLines: source.printedLines,
    printedLineShareSource: share(source.exactAsPrinted),
    printedLineShareCandidate: share(candidate.exactAsPrinted),
    printedLineShareIgnoringSpacesSource: share(source.exactIgnoringSpaces),
    printedLineShareIgnoringSpacesCandidate: share(candidate.exactIgnoringSpaces),
    printedCharacterErrorRateSource: source.characterErrorRate,
    printedCharacterErrorRateCandidate: candidate.characterErrorRate,
    printedLinesLost: Math.max(0, source.exactAsPrinted - candidate.exactAsPrinted),
  };
}

/** One recording's per-frame speech probabilities and its segments, by source and candidate. */
export interface VadPair {
  source: { probabilities: Float32Array; segments: readonly SpeechSegment[] };
  candidate: { probabilities: Float32Array; segments: readonly SpeechSegment[] };
}

/** Each boundary's distance to the nearest boundary of the same kind (start or end) in `other`. */
function boundaryShifts(from: readonly SpeechSegment[], to: readonly SpeechSegment[]): number[] {
  const nearest = (value: number, candidates: number[]) =>
    candidates.length ? Math.min(...candidates.map((c) => Math.abs(c - value))) : Infinity;
  return from.flatMap((s) => [
    nearest(
      s.start_ms,
      to.map((t) => t.start_ms),
    ),
    nearest(
      s.end_ms,
      to.map((t) => t.end_ms),
    ),
  ]);
}

/**
 * Frame agreement: frames where both say speech (probability ≥ `threshold`, the task's default) or
 * both say silence, over whole recordings with the state carried as the pipeline carries it.
 * Boundary shift: the largest distance from a boundary in either reading to the nearest one of the
 * same kind in the other (a lost or extra segment shows up as a large shift, never as none).
 */
export function vadFigures(pairs: readonly VadPair[], threshold: number): Figures {
  let frames = 0;
  let agree = 0;
  let maxProbabilityDifference = 0;
  let shift = 0;
  let sourceSegments = 0;
  let candidateSegments = 0;
  for (const { source, candidate } of pairs) {
    if (source.probabilities.length !== candidate.probabilities.length)
      throw new Error('source and candidate framed a recording differently');
    source.probabilities.forEach((p, i) => {
      const q = candidate.probabilities[i]!;
      frames++;
      if (p >= threshold === q >= threshold) agree++;
      maxProbabilityDifference = Math.max(maxProbabilityDifference, Math.abs(p - q));
    });
    const shifts = [...boundaryShifts(source.segments, candidate.segments), ...boundaryShifts(candidate.segments, source.segments)];
    shift = Math.max(shift, ...shifts, 0);
    sourceSegments += source.segments.length;
    candidateSegments += candidate.segments.length;
  }
  return {
    frames,
    frameAgreement: frames ? agree / frames : 1,
    boundaryShiftMs: Number.isFinite(shift) ? Math.round(shift * 1000) / 1000 : Number.MAX_SAFE_INTEGER,
    maxProbabilityDifference,
    sourceSegments,
    candidateSegments,
  };
}

/** What a reading of some images kept of the lines printed in them. */
export interface PrintedFigures {
  printedLines: number;
  /** Printed lines found among the lines read exactly, spaces and all (each read line counted once). */
  exactAsPrinted: number;
  /** The same with every space removed from both sides. */
  exactIgnoringSpaces: number;
  /** Edit distance between each image's printed text and the text read (lines joined in reading order), over the printed characters. */
  characterErrorRate: number;
}

/** Scores readings (the lines read from each image, in reading order) against what was printed. */
export function printedFigures(images: readonly { printed: readonly string[]; read: readonly string[] }[]): PrintedFigures {
  const noSpaces = (s: string) => s.replace(/\s+/g, '');
  const found = (printed: readonly string[], read: readonly string[]) => {
    const left = [...read];
    return printed.filter((text) => {
      const at = left.indexOf(text);
      if (at >= 0) left.splice(at, 1);
      return at >= 0;
    }).length;
  };
  let printedLines = 0;
  let exact = 0;
  let ignoringSpaces = 0;
  let errors = 0;
  let characters = 0;
  for (const { printed, read } of images) {
    printedLines += printed.length;
    exact += found(printed, read);
    ignoringSpaces += found(printed.map(noSpaces), read.map(noSpaces));
    const text = printed.join('\n');
    characters += [...text].length;
    errors += editDistance(text, read.join('\n'));
  }
  return {
    printedLines,
    exactAsPrinted: exact,
    exactIgnoringSpaces: ignoringSpaces,
    characterErrorRate: characters ? errors / characters : 0,
  };
}
