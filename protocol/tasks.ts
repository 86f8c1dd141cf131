// The task APIs' messages (`POST /v1/vad`, `POST /v1/ocr`): what a caller sends besides the raw file,
// and what each task answers. Shared by both tiers, the OpenAPI document and the typed client.

import { z } from 'zod';

/**
 * Silero's `get_speech_timestamps` parameters, with its defaults; snake_case as in the reference and
 * the rest of the wire format. `neg_threshold` defaults to `max(threshold - 0.15, 0.01)`.
 */
export const VadOptions = z
  .object({
    threshold: z.number().gt(0).lt(1).default(0.5),
    neg_threshold: z.number().gt(0).lt(1).optional(),
    min_speech_duration_ms: z.number().int().nonnegative().max(60_000).default(250),
    /** Longer speech is split at its longest silence, or cut; unlimited by default. */
    max_speech_duration_s: z.number().positive().optional(),
    min_silence_duration_ms: z.number().int().nonnegative().max(60_000).default(100),
    speech_pad_ms: z.number().int().nonnegative().max(10_000).default(30),
  })
  .strict();
export type VadOptions = z.infer<typeof VadOptions>;
export type VadOptionsInput = z.input<typeof VadOptions>;

export const SpeechSegment = z.object({ start_ms: z.number().nonnegative(), end_ms: z.number().nonnegative() });
export type SpeechSegment = z.infer<typeof SpeechSegment>;

export const VadResult = z.object({
  segments: z.array(SpeechSegment),
  /** Length of the recording. */
  duration_ms: z.number().nonnegative(),
  /** The recording's own sample rate, before resampling to the model's 16 kHz. */
  sample_rate: z.number().int().positive(),
});
export type VadResult = z.infer<typeof VadResult>;

export const OcrOptions = z.object({}).strict();
export type OcrOptions = z.infer<typeof OcrOptions>;

const Point = z.tuple([z.number(), z.number()]);

export const OcrLine = z.object({
  text: z.string(),
  /** Mean probability of the recognised characters. */
  confidence: z.number().min(0).max(1),
  /** Corners in image pixels: top-left, top-right, bottom-right, bottom-left of the text as read. */
  box: z.tuple([Point, Point, Point, Point]),
});
export type OcrLine = z.infer<typeof OcrLine>;

export const OcrResult = z.object({
  /** The lines' text in reading order, joined by "\n". */
  text: z.string(),
  lines: z.array(OcrLine),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type OcrResult = z.infer<typeof OcrResult>;

/** Which version of each model answered: `{"silero-vad": "5"}`. */
export const ModelVersions = z.record(z.string(), z.string());

/** A file in base64 (standard or URL-safe alphabet); decoded, with its length checked first, by the tier. */
const Base64 = z.string().min(1, 'file is empty');

/** JSON forms of a task request: one file, or a batch answered one result per file, in order. */
export function taskRequestBody<O extends z.ZodType>(options: O) {
  return z.union([
    z.object({ file: Base64, options: options.optional() }).strict(),
    z.object({ files: z.array(Base64).min(1, 'files is empty'), options: options.optional() }).strict(),
  ]);
}

export const VadRequestBody = taskRequestBody(VadOptions);
export const OcrRequestBody = taskRequestBody(OcrOptions);

export const VadResponse = VadResult.extend({ models: ModelVersions });
export const OcrResponse = OcrResult.extend({ models: ModelVersions });
export const VadBatchResponse = z.object({ results: z.array(VadResult), models: ModelVersions });
export const OcrBatchResponse = z.object({ results: z.array(OcrResult), models: ModelVersions });
export type VadResponse = z.infer<typeof VadResponse>;
export type OcrResponse = z.infer<typeof OcrResponse>;
export type VadBatchResponse = z.infer<typeof VadBatchResponse>;
export type OcrBatchResponse = z.infer<typeof OcrBatchResponse>;

/** Content types a task accepts as a raw body (besides application/json). */
export const audioContentTypes = ['audio/wav', 'audio/wave', 'audio/x-wav', 'audio/vnd.wave'] as const;
export const imageContentTypes = ['image/png', 'image/jpeg'] as const;

/** The header saying which tier ran a request: `edge`, `gpu` or `edge-fallback`. */
export const tierHeader = 'x-edgeinfer-tier';
/** What the answer was computed on: `wasm` at the edge; the backend's onnxruntime execution provider (`cuda`, `tensorrt`, `cpu`). */
export const providerHeader = 'x-edgeinfer-provider';
