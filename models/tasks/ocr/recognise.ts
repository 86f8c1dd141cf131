// The line stages after detection: direction classification (flip lines read upside down) and
// recognition, batched as PaddleOCR's predict_cls and predict_rec batch them.

import type { RunModel, StageTimer } from '../run-model.ts';
import { timed } from '../run-model.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { ctcGreedyDecode, type DecodedText } from './ctc.ts';
import type { Dictionary } from './dictionary.ts';
import { mapInFlight } from './in-flight.ts';
import { flipLine, sampleLine, type Line } from './line-crop.ts';
import { clsModel, recModel } from './models.ts';
import { defaultOcrSettings, type OcrPipelineSettings } from './settings.ts';

const lineHeight = 48;
const clsWidth = 192;
/**
 * predict_rec's rec_batch_num: lines sorted by width and run six at a time, padded to the widest of
 * the six. A tier may ask for fewer: the edge runs one line per run (one WASM thread, and the least
 * memory), the backend on CPU three (gpu-backend/tasks.ts).
 */
export const defaultRecBatchLines = 6;
/** A line's width when resized to the models' height (resize_norm_img's resized_w). */
function widthAt48(line: Line): number {
  return Math.ceil((lineHeight * line.cropWidth) / Math.max(line.cropHeight, 1));
}

/** A batch's width for a line: int(imgH * max_wh_ratio) in predict_rec. */
function batchWidthFor(line: Line): number {
  return Math.trunc((lineHeight * line.cropWidth) / Math.max(line.cropHeight, 1));
}

export interface UprightLines {
  lines: Line[];
  /** Lines the classifier thinks more likely upside down than not, but not surely: left as they were, to be read both ways. */
  unsure: Set<Line>;
}

/**
 * Each line, flipped by 180° where the classifier says '180' with more than the settings'
 * `flipThreshold`; and when that turns most of the page's lines, also each line it thinks more likely
 * upside down than not (a page is turned as a whole: a line the classifier is less sure of, on a page
 * turned upside down, is upside down too). On a page mostly upright, such a line is `unsure`.
 */
export async function uprightLines(
  image: RgbImage,
  lines: Line[],
  run: RunModel,
  timer?: StageTimer,
  settings: Pick<OcrPipelineSettings, 'flipThreshold' | 'recResize'> = defaultOcrSettings,
  callsInFlight = 1,
): Promise<UprightLines> {
  const result = [...lines];
  const upsideDownShare: number[] = new Array(lines.length).fill(0);
  const perBatch = Math.max(1, Math.min(clsModel.maxBatch, Math.floor(clsModel.maxElementsPerRequest / (3 * lineHeight * clsWidth))));
  const starts = Array.from({ length: Math.ceil(lines.length / perBatch) }, (_, k) => k * perBatch);
  await mapInFlight(starts, callsInFlight, async (start) => {
    const batch = lines.slice(start, start + perBatch);
    const data = await timed(timer, 'preprocess', () => {
      const tensor = new Float32Array(batch.length * 3 * lineHeight * clsWidth);
      batch.forEach((line, row) =>
        sampleLine(image, line, Math.min(clsWidth, widthAt48(line)), lineHeight, tensor, row, clsWidth, { resize: settings.recResize }),
      );
      return tensor;
    });
    const outputs = await run(clsModel.name, {
      [clsModel.input]: { datatype: 'FP32', shape: [batch.length, 3, lineHeight, clsWidth], data },
    });
    await timed(timer, 'postprocess', () => {
      const probabilities = outputs[clsModel.output]!.data as Float32Array;
      batch.forEach((line, row) => {
        const upsideDown = probabilities[row * 2 + 1]!;
        upsideDownShare[start + row] = upsideDown;
        if (upsideDown > probabilities[row * 2]! && upsideDown > settings.flipThreshold) result[start + row] = flipLine(line);
      });
    });
  });
  const turnedPage = result.filter((line, i) => line !== lines[i]).length * 2 > lines.length;
  const unsure = new Set<Line>();
  lines.forEach((line, i) => {
    if (result[i] !== line || upsideDownShare[i]! <= 0.5) return;
    if (turnedPage) result[i] = flipLine(line);
    else unsure.add(line);
  });
  return { lines: result, unsure };
}

/** Each line's text and confidence, in the order given. */
export async function recogniseLines(
  image: RgbImage,
  lines: Line[],
  run: RunModel,
  dictionary: Dictionary,
  timer?: StageTimer,
  batchLines = defaultRecBatchLines,
  settings: Pick<OcrPipelineSettings, 'recMinWidth' | 'recPadding' | 'recResize' | 'spaceWeight'> = defaultOcrSettings,
  callsInFlight = 1,
): Promise<DecodedText[]> {
  const results: DecodedText[] = new Array(lines.length);
  const batches = await timed(timer, 'preprocess', () => recBatches(lines, batchLines, settings.recMinWidth));
  await mapInFlight(batches, callsInFlight, async ({ rows, width }) => {
    const tensor = await timed(timer, 'preprocess', () => {
      const data = new Float32Array(rows.length * 3 * lineHeight * width);
      rows.forEach((index, row) =>
        sampleLine(image, lines[index]!, Math.min(width, widthAt48(lines[index]!)), lineHeight, data, row, width, {
          resize: settings.recResize,
          padding: settings.recPadding,
        }),
      );
      return data;
    });
    const outputs = await run(recModel.name, {
      [recModel.input]: { datatype: 'FP32', shape: [rows.length, 3, lineHeight, width], data: tensor },
    });
    await timed(timer, 'postprocess', () => {
      const output = outputs[recModel.output]!;
      const [, steps, classes] = output.shape as [number, number, number];
      if (classes !== dictionary.characters.length) {
        throw new Error(
          `${recModel.name} answers ${classes} classes but the dictionary has ${dictionary.characters.length} (with the blank and the space)`,
        );
      }
      rows.forEach((index, row) => {
        results[index] = ctcGreedyDecode(output.data as Float32Array, row, steps, classes, dictionary, settings.spaceWeight);
      });
    });
  });
  return results;
}

interface RecBatch {
  /** Indices into the lines, narrowest first. */
  rows: number[];
  /** The tensor's width: the widest line's, at least `recMinWidth` and 1 pixel. */
  width: number;
}

/** The lines sorted by width and grouped `batchLines` at a time, within the model's batch and element limits. */
function recBatches(lines: Line[], batchLines: number, minWidth: number): RecBatch[] {
  const order = lines.map((_, i) => i).sort((a, b) => widthAt48(lines[a]!) - widthAt48(lines[b]!));
  // The widest row one request may carry within the model's element limit.
  const maxWidth = Math.floor(recModel.maxElementsPerRequest / (3 * lineHeight));
  const perBatch = Math.max(1, Math.min(batchLines, recModel.maxBatch));
  const batches: RecBatch[] = [];
  for (let start = 0; start < order.length; ) {
    const rows: number[] = [];
    let width = Math.max(1, minWidth);
    for (let i = start; i < order.length && rows.length < perBatch; i++) {
      const nextWidth = Math.min(maxWidth, Math.max(width, batchWidthFor(lines[order[i]!]!)));
      if (rows.length > 0 && (rows.length + 1) * 3 * lineHeight * nextWidth > recModel.maxElementsPerRequest) break;
      rows.push(order[i]!);
      width = nextWidth;
    }
    batches.push({ rows, width });
    start += rows.length;
  }
  return batches;
}
