// Text from an image (PaddleOCR PP-OCRv4): PNG or JPEG → detection → direction classification →
// recognition → lines in reading order. Knows no tier: models run through the injected `run`.

import type { OcrLine, OcrResult } from '../../../protocol/tasks.ts';
import { decodeImage } from '../image/decode.ts';
import { inspectImage } from '../image/header.ts';
import { timed, type RunModel, type StageTimer } from '../run-model.ts';
import { boxesFromMap } from './db-postprocess.ts';
import { detInput } from './det-input.ts';
import type { Dictionary } from './dictionary.ts';
import { flipLine, lineFromBox } from './line-crop.ts';
import { detModel } from './models.ts';
import { sortBoxes, turnedPageOrder } from './reading-order.ts';
import { recogniseLines, uprightLines } from './recognise.ts';
import { defaultOcrSettings, type OcrPipelineSettings } from './settings.ts';

export { inspectImage, type ImageFormat, type ImageHeader } from '../image/header.ts';
export { parseDictionary, type Dictionary } from './dictionary.ts';
export { defaultRecBatchLines } from './recognise.ts';
export { backendModelCallsInFlight } from './in-flight.ts';
export { defaultOcrSettings, paddleOcrSettings, type OcrPipelineSettings } from './settings.ts';

/** predict_system's drop_score: lines read with less mean confidence are left out. */
const minConfidence = 0.5;

export interface ReadTextSettings {
  /** The recogniser's labels, parsed once per model version with `parseDictionary`. */
  dictionary: Dictionary;
  /** The task's limit (ocrTask.limits.maxPixels), checked from the header before decoding. */
  maxPixels: number;
  timer?: StageTimer;
  /** Lines per recogniser run (default 6, PaddleOCR's); see `defaultRecBatchLines`. */
  recBatchLines?: number;
  /** The pipeline's geometry and preprocessing; `defaultOcrSettings` unless measuring others (bench/ocr-settings.ts). */
  pipeline?: OcrPipelineSettings;
  /** Model calls kept in flight at once (default 1); the backend's is `backendModelCallsInFlight` (in-flight.ts). */
  modelCallsInFlight?: number;
}

export async function readText(bytes: Uint8Array, run: RunModel, settings: ReadTextSettings): Promise<OcrResult> {
  const { timer, dictionary } = settings;
  const pipeline = settings.pipeline ?? defaultOcrSettings;
  const image = await timed(timer, 'decode', () => decodeImage(bytes, inspectImage(bytes, settings.maxPixels)));
  const { width, height } = image;

  const input = await timed(timer, 'preprocess', () => detInput(image));
  const detected = await run(detModel.name, {
    [detModel.input]: { datatype: 'FP32', shape: [1, 3, input.height, input.width], data: input.data },
  });
  const lines = await timed(timer, 'postprocess', () => {
    const map = detected[detModel.output]!;
    const [mapHeight, mapWidth] = map.shape.slice(-2) as [number, number];
    return sortBoxes(boxesFromMap({ data: map.data as Float32Array, width: mapWidth, height: mapHeight }, width, height, pipeline)).map(
      lineFromBox,
    );
  });
  if (lines.length === 0) return { text: '', lines: [], width, height };

  const inFlight = settings.modelCallsInFlight ?? 1;
  const { lines: classified, unsure } = await uprightLines(image, lines, run, timer, pipeline, inFlight);
  const flipped = classified.filter((line, i) => line !== lines[i]).length;
  const upright = flipped * 2 > classified.length ? turnedPageOrder(classified, width, height) : classified;
  // A line the classifier leans to call upside down without being sure is read turned too, and the
  // likelier reading kept: at 0.9 (PaddleOCR's threshold) it turned an upright 'Total due' of the
  // printed table, at 0.99 it left a lone upside-down line unturned. Both readings go in one pass.
  const unsureAt = upright.flatMap((line, i) => (unsure.has(line) ? [i] : []));
  const turned = unsureAt.map((i) => flipLine(upright[i]!));
  const readBoth = await recogniseLines(image, [...upright, ...turned], run, dictionary, timer, settings.recBatchLines, pipeline, inFlight);
  const read = readBoth.slice(0, upright.length);
  unsureAt.forEach((at, k) => {
    const readTurned = readBoth[upright.length + k]!;
    if (readTurned.confidence <= read[at]!.confidence) return;
    upright[at] = turned[k]!;
    read[at] = readTurned;
  });
  return timed(timer, 'postprocess', () => {
    const result: OcrLine[] = [];
    upright.forEach((line, i) => {
      const { confidence } = read[i]!;
      const text = asPrinted(read[i]!.text, pipeline);
      if (confidence < minConfidence || text === '') return;
      result.push({ text, confidence, box: line.quad.map(([x, y]) => [x, y]) as OcrLine['box'] });
    });
    return { text: result.map((line) => line.text).join('\n'), lines: result, width, height };
  });
}

const cjk = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]/;
const fullWidth = /[\uff01-\uff5e]/g;

/** The recogniser's text as the settings say a printed line reads (see OcrPipelineSettings). */
function asPrinted(text: string, settings: OcrPipelineSettings): string {
  let result = settings.trimSpaces ? text.trim() : text;
  if (settings.asciiPunctuation && !cjk.test(result))
    result = result.replace(fullWidth, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  return result;
}
