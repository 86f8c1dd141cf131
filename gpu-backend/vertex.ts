// Vertex AI's custom-container prediction contract mapped onto a model's tensors.
//
//   request  {"instances": [instance, …], "parameters": {…}}    response  {"predictions": [prediction, …]}
//
// - One instance is one row of the batch. An instance is an object keyed by input name, holding that
//   input's row as nested arrays: the tensor's shape without its batch dimension (for paddleocr-rec,
//   `{"x": [[[…48 rows of W values…], …3 channels]]}`, i.e. 3×48×W). A model with a single batched
//   input also takes the bare row as the instance (`{"instances": [[[…]]]}`).
// - Inputs without a batch dimension (shared by every row, e.g. a sample rate) come from `parameters`,
//   keyed by input name, as a value or nested arrays of the input's full shape.
// - `parameters.model` (and optionally `parameters.version`) name the model when the server was not
//   started with VERTEX_MODEL.
// - Prediction i answers instance i: an object keyed by output name, holding that output's row i as
//   nested arrays (its shape without the batch dimension).
// The instances of one request become one batch (so at most the model's maxBatch of them), which the
// dynamic batcher may then join with other requests.

import { z } from 'zod';
import { InvalidInput, PayloadTooLarge } from '../protocol/errors.ts';
import { describeIssues, type RequestInput } from '../protocol/schemas.ts';
import { encodeTensor, type Tensor } from '../protocol/tensor-codec.ts';
import { type DecodedInferRequest, decodeInferRequest } from '../models/infer-request.ts';
import type { Manifest, TensorSpec } from '../models/manifest.ts';
import { concatAlong, splitAlong } from './batch-tensors.ts';

export const VertexPredictRequest = z.object({
  instances: z.array(z.unknown()).min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type VertexPredictRequest = z.infer<typeof VertexPredictRequest>;

export interface VertexPredictResponse {
  predictions: Record<string, unknown>[];
}

export function parseVertexRequest(body: unknown): VertexPredictRequest {
  const parsed = VertexPredictRequest.safeParse(body);
  if (!parsed.success) throw new InvalidInput(`invalid Vertex AI predict request: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The sizes of nested arrays, following first elements (the codec then checks every branch). */
function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

/** Wraps the arrays at `depth` in a one-element array: a row gains its batch axis of size 1. */
function withUnitAxis(value: unknown, depth: number, input: string): unknown {
  if (depth === 0) return [value];
  if (!Array.isArray(value)) throw new InvalidInput(`instance input '${input}' is not nested deeply enough for the model's shape`);
  return value.map((inner) => withUnitAxis(inner, depth - 1, input));
}

function rowInput(spec: TensorSpec, row: unknown): RequestInput {
  const axis = spec.batchDimension!;
  const shape = nestedShape(row);
  shape.splice(axis, 0, 1);
  return { name: spec.name, datatype: spec.datatype, shape, data: withUnitAxis(row, axis, spec.name) as unknown[] };
}

function sharedInput(spec: TensorSpec, value: unknown): RequestInput {
  return { name: spec.name, datatype: spec.datatype, shape: nestedShape(value), data: Array.isArray(value) ? value : [value] };
}

function rowsOf(manifest: Manifest, instance: unknown, index: number): Map<string, unknown> {
  const batched = manifest.inputs.filter((spec) => spec.batchDimension !== undefined);
  if (Array.isArray(instance) && batched.length === 1) return new Map([[batched[0]!.name, instance]]);
  if (typeof instance !== 'object' || instance === null || Array.isArray(instance)) {
    throw new InvalidInput(`instances.${index} must be an object keyed by input name (${batched.map((s) => s.name).join(', ')})`);
  }
  return new Map(Object.entries(instance));
}

/** One batch from a Vertex request: each instance decoded as a one-row request, then concatenated. */
export function decodeVertexRequest(request: VertexPredictRequest, manifest: Manifest): DecodedInferRequest {
  const { instances, parameters = {} } = request;
  if (instances.length > manifest.limits.maxBatch) {
    throw new PayloadTooLarge(
      `${instances.length} instances; model '${manifest.name}' takes at most ${manifest.limits.maxBatch} per request`,
    );
  }
  if (!manifest.inputs.some((spec) => spec.batchDimension !== undefined)) {
    throw new InvalidInput(`model '${manifest.name}' has no batched input, so it has no rows for Vertex AI instances`);
  }
  const shared = manifest.inputs
    .filter((spec) => spec.batchDimension === undefined)
    .map((spec) => {
      if (!(spec.name in parameters))
        throw new InvalidInput(
          `parameters.${spec.name} is missing: input '${spec.name}' has no batch dimension, so it is given once in parameters`,
        );
      return sharedInput(spec, parameters[spec.name]);
    });

  let elementsLeft = manifest.limits.maxElementsPerRequest;
  const decoded = instances.map((instance, index) => {
    const rows = rowsOf(manifest, instance, index);
    const inputs = manifest.inputs
      .filter((spec) => spec.batchDimension !== undefined)
      .map((spec) => {
        if (!rows.has(spec.name)) throw new InvalidInput(`instances.${index} lacks input '${spec.name}'`);
        return rowInput(spec, rows.get(spec.name));
      });
    // Counted from the declared shapes before any row is decoded, so the whole request stays in the limit.
    const elements = inputs.reduce((sum, input) => sum + input.shape.reduce((n, size) => n * size, 1), 0);
    if (elements > elementsLeft) {
      throw new PayloadTooLarge(
        `the instances carry more than the ${manifest.limits.maxElementsPerRequest} elements model '${manifest.name}' takes per request`,
      );
    }
    elementsLeft -= elements;
    try {
      return decodeInferRequest({ inputs: [...inputs, ...shared] }, manifest);
    } catch (err) {
      if (err instanceof Error) err.message = `instances.${index}: ${err.message}`;
      throw err;
    }
  });

  const inputs = manifest.inputs.map((spec, i) => {
    const parts = decoded.map((request) => request.inputs[i]!);
    if (spec.batchDimension === undefined) return parts[0]!;
    const shapes = new Set(parts.map((part) => part.shape.filter((_, axis) => axis !== spec.batchDimension).join('x')));
    if (shapes.size > 1)
      throw new InvalidInput(`instances give input '${spec.name}' different shapes; every row of a batch has the same shape`);
    return concatAlong(parts, spec.batchDimension);
  });
  return { inputs, outputNames: manifest.outputs.map((spec) => spec.name), batchSize: instances.length };
}

function nest(values: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  if (shape.length === 1) return values;
  const [size, ...rest] = shape as [number, ...number[]];
  const stride = rest.reduce((n, s) => n * s, 1);
  return Array.from({ length: size }, (_, i) => nest(values.slice(i * stride, (i + 1) * stride), rest));
}

/** Prediction i holds row i of every output, keyed by output name. */
export function encodePredictions(manifest: Manifest, outputs: readonly Tensor[], instances: number): VertexPredictResponse {
  const predictions = Array.from({ length: instances }, () => ({}) as Record<string, unknown>);
  for (const output of outputs) {
    const axis = manifest.outputs.find((spec) => spec.name === output.name)?.batchDimension;
    if (axis === undefined) {
      const whole = nest(encodeTensor(output).data, output.shape);
      for (const prediction of predictions) prediction[output.name] = whole;
      continue;
    }
    splitAlong(output, axis, new Array(instances).fill(1)).forEach((row, i) => {
      const rowShape = row.shape.filter((_, a) => a !== axis);
      predictions[i]![output.name] = nest(encodeTensor(row).data, rowShape);
    });
  }
  return { predictions };
}
