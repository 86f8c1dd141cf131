// The largest request each edge route accepts, and what it costs one isolate's memory while it is
// handled: its body and what the edge decodes from it. The bodies are the edge's own limits
// (protocol/edge-limits.ts) where they are below the manifests'. The costs are a model of what the
// code holds at its peak, not a measurement (workerd reports no per-request memory): each term names
// the buffer it stands for, so a change to the code that holds more shows here as a term to add.
//
// One 124 MiB JSON /v1/vad batch was measured to raise workerd by 507 MB (~4.1× its body) before
// these limits; the JSON task term below (4.75× the body) covers that ratio.

import type { Manifest } from '../../../models/manifest.ts';
import { maxTaskBodyBytes } from '../../../models/tasks/task-request.ts';
import type { OcrTaskManifest, VadTaskManifest } from '../../../models/tasks/task-manifest.ts';
import type { EdgeRequestLimits } from '../../../protocol/edge-limits.ts';

export interface RequestCost {
  route: string;
  /** `binary`, `json` or `raw`: the body's form, each with its own edge limit. */
  form: string;
  /** The largest body the edge reads for this route and form. */
  bodyBytes: number;
  /** Each buffer held at the peak besides the body, by name. */
  terms: Record<string, number>;
  totalBytes: number;
}

// JSON.parse makes a packed double array of a tensor's numbers: 8 bytes each, beside the text.
const bytesPerJsonNumber = 8;
// A 16-bit sample becomes a float32 one: twice its bytes.
const floatPerPcm16 = 2;
const sileroSampleRate = 16_000;
// PaddleOCR's detector never sees more than 960 pixels a side (models/tasks/ocr/det-input.ts).
const detMaxSide = 960;

function cost(route: string, form: string, bodyBytes: number, terms: Record<string, number>): RequestCost {
  return { route, form, bodyBytes, terms, totalBytes: bodyBytes + Object.values(terms).reduce((a, b) => a + b, 0) };
}

/** /v2 infer: the body, the tensors decoded from it, and the binary copy forwarded to the backend (or handed to WASM). */
function inferCosts(manifest: Manifest, limits: EdgeRequestLimits): RequestCost[] {
  const route = `/v2/models/${manifest.name}/infer`;
  const widest = Math.max(...manifest.inputs.map((input) => (input.datatype === 'FP64' || input.datatype === 'INT64' ? 8 : 4)));
  const binary = Math.min(manifest.limits.maxRequestBytes, limits.inferBinaryBytes);
  const json = Math.min(manifest.limits.maxRequestBytes, limits.inferJsonBytes);
  // A JSON number takes at least two bytes ("0,"); the manifest bounds the elements too.
  const jsonNumbers = Math.min(Math.ceil(json / 2), manifest.limits.maxElementsPerRequest);
  return [
    cost(route, 'binary', binary, { tensors: binary, 'forwarded copy': binary }),
    cost(route, 'json', json, {
      'decoded text': json,
      'parsed numbers': jsonNumbers * bytesPerJsonNumber,
      tensors: jsonNumbers * widest,
      'forwarded copy': jsonNumbers * widest,
    }),
  ];
}

/** Decoding one edge-run recording: float32 samples of the body's PCM, and the 16 kHz mono signal Silero reads. */
function vadDecode(fileBytes: number, vad: VadTaskManifest): Record<string, number> {
  const edgeSeconds = vad.routing?.edgeMaxAudioSeconds ?? vad.limits.maxAudioSeconds;
  return { 'float samples': fileBytes * floatPerPcm16, '16 kHz signal': edgeSeconds * sileroSampleRate * 4 };
}

/** Decoding one edge-run image: RGBA pixels, and the detector's float32 planes at its largest input. */
function ocrDecode(ocr: OcrTaskManifest): Record<string, number> {
  const pixels = ocr.routing?.edgeMaxPixels ?? ocr.limits.maxPixels;
  return { 'RGBA pixels': pixels * 4, 'detector input': detMaxSide * detMaxSide * 3 * 4 };
}

function taskCosts(
  task: VadTaskManifest | OcrTaskManifest,
  decode: (fileBytes: number) => Record<string, number>,
  limits: EdgeRequestLimits,
): RequestCost[] {
  const route = `/v1/${task.name}`;
  const raw = Math.min(task.limits.maxFileBytes, limits.taskRawBytes);
  const json = Math.min(maxTaskBodyBytes(task.limits), limits.taskJsonBytes);
  const decodedFiles = Math.floor((json * 3) / 4);
  return [
    // Forwarded, the body is copied into the backend request; run here, its file is decoded.
    cost(route, 'raw', raw, { 'forwarded copy or decode': Math.max(raw, sum(decode(raw))) }),
    cost(route, 'json', json, {
      'decoded text': json,
      'base64 strings': json,
      'decoded files': decodedFiles,
      'forwarded copy or decode': Math.max(json, sum(decode(decodedFiles))),
    }),
  ];
}

const sum = (terms: Record<string, number>) => Object.values(terms).reduce((a, b) => a + b, 0);

/** Every route of the edge that reads a body, each form, largest first. */
export function requestCosts(
  manifests: readonly Manifest[],
  tasks: { vad: VadTaskManifest; ocr: OcrTaskManifest },
  limits: EdgeRequestLimits,
): RequestCost[] {
  return [
    ...manifests.flatMap((manifest) => inferCosts(manifest, limits)),
    ...taskCosts(tasks.vad, (bytes) => vadDecode(bytes, tasks.vad), limits),
    ...taskCosts(tasks.ocr, () => ocrDecode(tasks.ocr), limits),
  ].sort((a, b) => b.totalBytes - a.totalBytes);
}
