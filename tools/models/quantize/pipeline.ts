// The quantizer as one pure function of (source bytes, mode, options[, ranges]) → bytes: what the
// CLI runs after calibrating and what `models sync` runs to re-derive a version, with the same result.

import { constantsToInitializers } from './constants-to-initializers.ts';
import { quantizeDynamic } from './dynamic.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { convertToFloat16 } from './fp16.ts';
import { decodeModel, encodeModel, type Model } from './onnx-io.ts';
import { upgradeOpset } from './opset-upgrade.ts';
import type { Ranges } from './ranges-file.ts';
import { quantizeStatic } from './static-qdq.ts';
import { quantizeWeightsInt8 } from './weight-int8.ts';

export const modes = ['weight-int8', 'dynamic-uint8', 'static-qdq', 'fp16'] as const;
export type Mode = (typeof modes)[number];

/** Bumped whenever a change to the tool changes the bytes it writes for the same inputs. */
export const toolVersion = '1';

/** Weights smaller than this stay float: their bytes do not matter and small tensors (biases, norms) are sensitive. */
export const defaultMinElements = 1024;

export interface QuantizeOptions {
  mode: Mode;
  /** Names of nodes that keep float computation (their weights are still stored int8 in integer modes). */
  keepFloat: readonly string[];
  minElements: number;
  /** static-qdq only: activation ranges by tensor name of the prepared model. */
  ranges?: Ranges;
}

export interface QuantizeResult {
  bytes: Uint8Array;
  /** What each step did, for the CLI's progress output. */
  steps: string[];
}

/** The float model every mode starts from: weights as initializers, opset ≥ 13, BatchNorm folded. */
export function prepare(source: Uint8Array): { model: Model; steps: string[] } {
  const model = decodeModel(source);
  const constants = constantsToInitializers(model);
  const opset = upgradeOpset(model);
  const folded = foldBatchNorm(model);
  return {
    model,
    steps: [
      `${constants} Constant nodes to initializers`,
      `opset ${opset} → ${Math.max(opset, 13)}`,
      `${folded} BatchNormalization folded into Conv`,
    ],
  };
}

export function quantize(source: Uint8Array, options: QuantizeOptions): QuantizeResult {
  const { model, steps } = prepare(source);
  const keepFloat = new Set(options.keepFloat);
  const weights = { minElements: options.minElements, keepFloat };
  const storeRestInt8 = () =>
    steps.push(
      `${quantizeWeightsInt8(model, { minElements: options.minElements, keepFloat: new Set() })} float-computed weights stored int8`,
    );
  switch (options.mode) {
    case 'weight-int8':
      steps.push(`${quantizeWeightsInt8(model, weights)} weights int8 per channel`);
      break;
    case 'dynamic-uint8':
      steps.push(`${quantizeDynamic(model, weights)} Conv/MatMul to ConvInteger/MatMulInteger`);
      storeRestInt8();
      break;
    case 'static-qdq': {
      if (!options.ranges) throw new Error('static-qdq needs activation ranges (calibrate first)');
      steps.push(`${quantizeStatic(model, options.ranges, weights)} Conv/MatMul with QDQ activations`);
      storeRestInt8();
      break;
    }
    case 'fp16':
      convertToFloat16(model);
      steps.push('float16 weights and activations, float32 inputs and outputs');
      break;
  }
  model.producerName = 'edgeinfer-quantize';
  model.producerVersion = toolVersion;
  return { bytes: encodeModel(model), steps };
}
