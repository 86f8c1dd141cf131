// Checks a parsed infer request against a model's manifest and decodes its tensors. Shared by both
// tiers so that the manifest's limits mean the same thing wherever a request lands.

import { InvalidInput, PayloadTooLarge } from '../protocol/errors.ts';
import { parseInferRequestBody, type WireInferRequest } from '../protocol/binary.ts';
import { decodeTensor, type Tensor } from '../protocol/tensor-codec.ts';
import type { Manifest } from './manifest.ts';

export interface DecodedInferRequest {
  inputs: Tensor[];
  /** The outputs to answer, in the order the caller asked for them (all of them when unspecified). */
  outputNames: string[];
  /** Size of the batch dimension shared by the batched inputs; 1 for a model without one. */
  batchSize: number;
}

/** The elements of all of a request's inputs together: what routing and metering measure it by. */
export function inputElements(request: Pick<DecodedInferRequest, 'inputs'>): number {
  return request.inputs.reduce((sum, input) => sum + input.data.length, 0);
}

/**
 * How many JSON values an infer request for this model may hold: its elements, once more for arrays
 * when data is nested to the last dimension, and room for names, shapes and parameters.
 */
export function maxJsonValues(manifest: Manifest): number {
  return 2 * manifest.limits.maxElementsPerRequest + 4096;
}

/**
 * Reads an infer request body (JSON, or the binary tensor data extension when `headerLength`, the
 * `Inference-Header-Content-Length` header, is set) and decodes it against the model's manifest.
 */
export function readInferRequest(
  body: Uint8Array,
  headerLength: string | null | undefined,
  manifest: Manifest,
): { wire: WireInferRequest; decoded: DecodedInferRequest } {
  const wire = parseInferRequestBody(body, headerLength, maxJsonValues(manifest));
  return { wire, decoded: decodeInferRequest(wire, manifest) };
}

/** Takes a JSON request or one read by `parseInferRequestBody` (binary inputs carry their bytes). */
export function decodeInferRequest(request: WireInferRequest, manifest: Manifest): DecodedInferRequest {
  const sent = new Map<string, WireInferRequest['inputs'][number]>();
  for (const input of request.inputs) {
    if (sent.has(input.name)) throw new InvalidInput(`input '${input.name}' is given more than once`);
    if (!manifest.inputs.some((spec) => spec.name === input.name)) {
      throw new InvalidInput(
        `model '${manifest.name}' has no input '${input.name}'; its inputs are ${manifest.inputs.map((s) => s.name).join(', ')}`,
      );
    }
    sent.set(input.name, input);
  }

  let elementsLeft = manifest.limits.maxElementsPerRequest;
  let batchSize: number | undefined;
  const inputs = manifest.inputs.map((spec) => {
    const input = sent.get(spec.name);
    if (!input)
      throw new InvalidInput(
        `input '${spec.name}' is missing; model '${manifest.name}' needs ${manifest.inputs.map((s) => s.name).join(', ')}`,
      );
    const tensor = decodeTensor(input, spec, { maxElements: elementsLeft, allowEmpty: false });
    elementsLeft -= tensor.data.length;
    if (spec.batchDimension !== undefined) {
      const rows = tensor.shape[spec.batchDimension]!;
      if (rows > manifest.limits.maxBatch) {
        throw new PayloadTooLarge(
          `input '${spec.name}' has a batch of ${rows}; model '${manifest.name}' takes at most ${manifest.limits.maxBatch}`,
        );
      }
      if (batchSize !== undefined && rows !== batchSize) {
        throw new InvalidInput(
          `input '${spec.name}' has a batch of ${rows} but an earlier input has ${batchSize}: batched inputs must agree`,
        );
      }
      batchSize = rows;
    }
    return tensor;
  });

  const outputNames = request.outputs?.map((o) => o.name) ?? manifest.outputs.map((o) => o.name);
  for (const name of outputNames) {
    if (!manifest.outputs.some((spec) => spec.name === name)) {
      throw new InvalidInput(
        `model '${manifest.name}' has no output '${name}'; its outputs are ${manifest.outputs.map((s) => s.name).join(', ')}`,
      );
    }
  }
  return { inputs, outputNames, batchSize: batchSize ?? 1 };
}

/**
 * A task pipeline's feeds (models/tasks/run-model.ts) as an infer request: inputs in the manifest's
 * order, every output asked for, the batch read from the batched inputs. The pipelines build their
 * feeds from the manifests, so nothing here is the caller's to check.
 */
export function requestFromFeeds(manifest: Manifest, feeds: Readonly<Record<string, Omit<Tensor, 'name'>>>): DecodedInferRequest {
  let batchSize = 1;
  const inputs = manifest.inputs.map((spec) => {
    const tensor = feeds[spec.name];
    if (!tensor) throw new Error(`the pipeline gave model '${manifest.name}' no input '${spec.name}'`);
    if (spec.batchDimension !== undefined) batchSize = tensor.shape[spec.batchDimension]!;
    return { name: spec.name, ...tensor };
  });
  return { inputs, outputNames: manifest.outputs.map((output) => output.name), batchSize };
}
