// The task APIs both tiers serve, parsed once at import.

import ocrRaw from './ocr/task.json' with { type: 'json' };
import vadRaw from './vad/task.json' with { type: 'json' };
import { OcrTaskManifest, parseTaskManifest, VadTaskManifest } from './task-manifest.ts';

export const vadTask: VadTaskManifest = parseTaskManifest(VadTaskManifest, vadRaw, 'models/tasks/vad/task.json');
export const ocrTask: OcrTaskManifest = parseTaskManifest(OcrTaskManifest, ocrRaw, 'models/tasks/ocr/task.json');
