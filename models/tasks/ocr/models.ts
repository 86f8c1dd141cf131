// The three models the OCR task runs, with what the pipeline needs from their manifests: tensor
// names and the request limits a batch must stay within.

import clsRaw from '../../paddleocr-cls/manifest.json' with { type: 'json' };
import detRaw from '../../paddleocr-det/manifest.json' with { type: 'json' };
import recRaw from '../../paddleocr-rec/manifest.json' with { type: 'json' };
import { parseManifest, type Manifest } from '../../manifest.ts';
import { ocrTask } from '../catalog.ts';

export interface OcrModel {
  name: string;
  input: string;
  output: string;
  maxBatch: number;
  maxElementsPerRequest: number;
  /** Last dimension of the output (the recogniser's classes). */
  outputClasses: number;
}

function describe(manifest: Manifest, expectedName: string): OcrModel {
  if (manifest.name !== expectedName)
    throw new Error(`models/tasks/ocr/task.json names '${expectedName}' but the manifest imported for it is '${manifest.name}'`);
  const output = manifest.outputs[0]!;
  return {
    name: manifest.name,
    input: manifest.inputs[0]!.name,
    output: output.name,
    maxBatch: manifest.limits.maxBatch,
    maxElementsPerRequest: manifest.limits.maxElementsPerRequest,
    outputClasses: output.shape[output.shape.length - 1]!,
  };
}

const [detName, clsName, recName] = ocrTask.models;
export const detModel = describe(parseManifest(detRaw, 'models/paddleocr-det/manifest.json'), detName);
export const clsModel = describe(parseManifest(clsRaw, 'models/paddleocr-cls/manifest.json'), clsName);
export const recModel = describe(parseManifest(recRaw, 'models/paddleocr-rec/manifest.json'), recName);
