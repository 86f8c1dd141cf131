// The manifest of a task API (`/v1/vad`, `/v1/ocr`): which registered models it runs, in order, and
// the limits a caller's file is held to before any heavy work. Like a model's manifest, it is the one
// source of truth for these numbers; both tiers read it.

import { z } from 'zod';
import { UnitsSpec } from '../units.ts';

const ModelName = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/);

const CommonLimits = z.object({
  /** Largest file accepted, raw or base64-decoded, checked before the body is read in full. */
  maxFileBytes: z.number().int().positive(),
  /** Most files in one batch request. */
  maxBatchFiles: z.number().int().positive(),
});

export const VadTaskManifest = z.object({
  name: z.literal('vad'),
  description: z.string(),
  models: z.tuple([ModelName]),
  limits: CommonLimits.extend({
    /** Longest recording, from its header, in seconds. */
    maxAudioSeconds: z.number().positive(),
  }),
  /** What a request costs (models/units.ts): one unit per started `workPerUnit` ms of each recording. */
  units: UnitsSpec.refine((units) => units.work === 'audio_ms', { message: 'VAD is counted in audio_ms' }),
  routing: z
    .object({
      /**
       * Recordings up to this long run at the edge; longer ones on the backend, where the decoded
       * audio does not compete for a Worker isolate's 128 MB.
       */
      edgeMaxAudioSeconds: z.number().positive(),
    })
    .optional(),
});
export type VadTaskManifest = z.infer<typeof VadTaskManifest>;

export const OcrTaskManifest = z.object({
  name: z.literal('ocr'),
  description: z.string(),
  /** Detection, direction classification, recognition: the pipeline's order. */
  models: z.tuple([ModelName, ModelName, ModelName]),
  limits: CommonLimits.extend({
    /** Most pixels an image's header may declare; checked before decoding (decompression bombs). */
    maxPixels: z.number().int().positive(),
  }),
  /** What a request costs (models/units.ts): one unit per started `workPerUnit` pixels of each image. */
  units: UnitsSpec.refine((units) => units.work === 'pixels', { message: 'OCR is counted in pixels' }),
  routing: z
    .object({
      /**
       * Images with at most this many pixels run at the edge, when every model of the pipeline is
       * served there; larger ones go to the backend in one hop.
       */
      edgeMaxPixels: z.number().int().positive(),
    })
    .optional(),
});
export type OcrTaskManifest = z.infer<typeof OcrTaskManifest>;

/** Parses a task manifest, naming each problem by its path. */
export function parseTaskManifest<T extends z.ZodType>(schema: T, raw: unknown, origin: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`invalid task manifest ${origin}:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
