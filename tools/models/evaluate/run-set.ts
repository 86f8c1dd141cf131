// Runs an evaluation set through its task pipeline twice, float32 and with the candidate swapped in for
// one model, on onnxruntime-node (one thread), and compares what the two pipelines answered.

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { readText, type Dictionary } from '../../../models/tasks/ocr/index.ts';
import { detectSpeech } from '../../../models/tasks/vad/index.ts';
import { VadOptions, type OcrResult } from '../../../protocol/tasks.ts';
import { createSession, sessionRunner } from '../quantize/ort-run.ts';
import { evaluationFiles, type EvaluationSet } from './evaluation-sets.ts';
import { ocrFigures, vadFigures, type Figures, type OcrPair, type VadPair } from './figures.ts';

export interface RunSetOptions {
  repoRoot: string;
  /** The model evaluated, and its candidate's bytes. */
  target: string;
  candidate: Uint8Array;
  /** model name → float32 bytes of every model the set's pipeline runs (the target's source among them). */
  floatModels: ReadonlyMap<string, Uint8Array>;
  declaredOutputs: ReadonlyMap<string, readonly string[]>;
  /** OCR sets: the recogniser's labels. */
  dictionary?: Dictionary;
  log?: (line: string) => void;
}

/** Large enough for any evaluation image; the task's own limit is a request limit, not a model one. */
const maxPixels = 25_000_000;

export async function runEvaluationSet(set: EvaluationSet, options: RunSetOptions): Promise<Figures> {
  const floatSessions = new Map<string, ort.InferenceSession>();
  for (const name of set.models) {
    const bytes = options.floatModels.get(name);
    if (!bytes) throw new Error(`evaluation set '${set.name}' runs '${name}', whose float32 bytes were not given`);
    floatSessions.set(name, await createSession(bytes));
  }
  const candidateSession = await createSession(options.candidate);
  const candidateSessions = new Map(floatSessions).set(options.target, candidateSession);
  try {
    const files = await evaluationFiles(set, options.repoRoot);
    if (set.task === 'ocr') {
      const dictionary = options.dictionary;
      if (!dictionary) throw new Error(`evaluation set '${set.name}' needs the recogniser's dictionary`);
      const read = (bytes: Uint8Array, sessions: Map<string, ort.InferenceSession>): Promise<OcrResult> =>
        readText(bytes, sessionRunner(sessions, options.declaredOutputs), { dictionary, maxPixels });
      const printed: Record<string, string[]> = set.truth
        ? JSON.parse(await readFile(join(options.repoRoot, set.dir, set.truth), 'utf8'))
        : {};
      const pairs: OcrPair[] = [];
      for (const path of files) {
        const bytes = new Uint8Array(await readFile(path));
        const source = await read(bytes, floatSessions);
        const candidate = await read(bytes, candidateSessions);
        const lost = source.lines.filter((l) => !candidate.lines.some((c) => c.text === l.text)).map((l) => `"${l.text}"`);
        const gained = candidate.lines.filter((c) => !source.lines.some((l) => l.text === c.text)).map((c) => `"${c.text}"`);
        options.log?.(
          `  ${path.slice(path.lastIndexOf('/') + 1)}: ${source.lines.length} lines${lost.length + gained.length ? `; float32 read ${lost.join(', ') || 'nothing else'}, the candidate ${gained.join(', ') || 'nothing else'}` : ', all read alike'}`,
        );
        pairs.push({ source: source.lines, candidate: candidate.lines, printed: printed[basename(path)] });
      }
      return ocrFigures(pairs);
    }
    const threshold = VadOptions.parse({}).threshold;
    const pairs: VadPair[] = [];
    for (const path of files) {
      const bytes = new Uint8Array(await readFile(path));
      const detect = async (sessions: Map<string, ort.InferenceSession>) => {
        const probabilities: number[] = [];
        // The pipeline's own framing and state carrying; each run's speech probability is observed.
        const run = sessionRunner(sessions, options.declaredOutputs, (model, outputs) => {
          if (model === options.target) probabilities.push(Number(outputs.output!.data[0]));
        });
        const result = await detectSpeech(bytes, {}, run);
        return { probabilities: Float32Array.from(probabilities), segments: result.segments };
      };
      const source = await detect(floatSessions);
      const candidate = await detect(candidateSessions);
      options.log?.(
        `  ${path.slice(path.lastIndexOf('/') + 1)}: segments ${JSON.stringify(source.segments.map((s) => [s.start_ms, s.end_ms]))} → ${JSON.stringify(candidate.segments.map((s) => [s.start_ms, s.end_ms]))}`,
      );
      pairs.push({ source, candidate });
    }
    return vadFigures(pairs, threshold);
  } finally {
    for (const session of new Set(candidateSessions.values()).add(floatSessions.get(options.target)!)) await session.release();
  }
}
