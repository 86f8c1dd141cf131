// The Open Inference Protocol binary tensor data extension (KServe / Triton "binary_tensor_data"):
// a body is a JSON header of `Inference-Header-Content-Length` bytes, followed by the raw data of each
// tensor whose `parameters.binary_data_size` is set, in the order the tensors appear in the header
// (little-endian, row-major, no padding; BOOL one byte, 0 or 1). Without that HTTP header the whole
// body is JSON, so plain v2 requests go through the same entry point.
//
// This file does the framing: every length (the header's, each declared size, their sum) is checked
// against the body before a byte of tensor data is looked at, and tensors are only ever sliced as views
// here. Turning bytes into typed arrays, with the shape and element-limit checks that need the model's
// declaration, is protocol/tensor-codec.ts's `decodeTensor`, shared with JSON.

import { z } from 'zod';
import { parseJson } from './body.ts';
import { HttpError, InvalidInput } from './errors.ts';
import { InferRequest, InferResponse, RequestInput, type RequestOutput, ResponseOutput, describeIssues } from './schemas.ts';
import { decodeTensor, encodeTensor, tensorBytes, type Tensor, type TensorInput } from './tensor-codec.ts';

/** The extension's name, advertised in `extensions` of `GET /v2`. */
export const binaryTensorDataExtension = 'binary_tensor_data';
/** HTTP header giving the JSON header's length in bytes, on requests and responses with binary data. */
export const inferenceHeaderContentLength = 'inference-header-content-length';
/** Content type of a body that carries binary tensor data. */
export const binaryMediaType = 'application/octet-stream';
/**
 * Content types an infer request may have. Clients differ in what they send with binary data, so the
 * `Inference-Header-Content-Length` header, not the content type, says whether binary data follows.
 */
export const inferRequestMediaTypes = ['application/json', binaryMediaType] as const;

const binaryDataSize = 'binary_data_size';

/** An infer request whose binary inputs carry their bytes (views into the body) as `data`. */
export type WireInferRequest = Omit<InferRequest, 'inputs'> & { inputs: TensorInput[] };

export interface EncodedBody {
  body: Uint8Array;
  /** Length of the JSON header when binary data follows it; undefined for a plain JSON body. */
  headerLength: number | undefined;
}

const WireInput = RequestInput.extend({ data: RequestInput.shape.data.optional() });
const WireRequest = InferRequest.extend({ inputs: z.array(WireInput).min(1) });
const WireOutput = ResponseOutput.extend({ data: ResponseOutput.shape.data.optional() });
const WireResponse = InferResponse.extend({ outputs: z.array(WireOutput) });
type WireResponse = z.infer<typeof WireResponse>;

type Parameters = Record<string, string | number | boolean>;

/** The HTTP headers that go with an encoded body. */
export function bodyHeaders(encoded: Pick<EncodedBody, 'headerLength'> & Partial<EncodedBody>): Record<string, string> {
  if (encoded.headerLength === undefined) return { 'content-type': 'application/json' };
  return { 'content-type': binaryMediaType, [inferenceHeaderContentLength]: String(encoded.headerLength) };
}

/** The JSON header's length from the `Inference-Header-Content-Length` value: the whole body when absent. */
function headerLengthOf(value: string | null | undefined, bodyLength: number): number {
  if (value === null || value === undefined) return bodyLength;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new InvalidInput(`${inferenceHeaderContentLength} must be a byte count; got '${value.slice(0, 40)}'`);
  }
  const length = Number(value.trim());
  if (length > bodyLength) {
    throw new InvalidInput(`${inferenceHeaderContentLength} is ${length} but the body has only ${bodyLength} bytes`);
  }
  return length;
}

/** A tensor's declared binary size, or undefined when it travels as JSON. */
function declaredSize(kind: string, name: string, parameters: Parameters | undefined): number | undefined {
  const size = parameters?.[binaryDataSize];
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidInput(`${kind} '${name}' has ${binaryDataSize} ${JSON.stringify(size)}; it must be a non-negative integer`);
  }
  return size;
}

/**
 * Splits the bytes after the header among the tensors that declared a binary size, in order. Checks
 * first that the sizes add up to exactly the bytes there are, so nothing is read past or left over.
 */
function sliceBinaryData(
  kind: string,
  tensors: { name: string; parameters?: Parameters | undefined; data?: unknown }[],
  body: Uint8Array,
  headerLength: number,
): (Uint8Array | undefined)[] {
  const sizes = tensors.map((tensor) => {
    const size = declaredSize(kind, tensor.name, tensor.parameters);
    if (size !== undefined && tensor.data !== undefined) {
      throw new InvalidInput(`${kind} '${tensor.name}' has both data and ${binaryDataSize}; send one`);
    }
    if (size === undefined && tensor.data === undefined) {
      throw new InvalidInput(`${kind} '${tensor.name}' has neither data nor ${binaryDataSize}`);
    }
    return size;
  });
  const declaredTotal = sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
  const available = body.length - headerLength;
  if (declaredTotal !== available) {
    throw new InvalidInput(
      `the ${kind}s declare ${declaredTotal} bytes of binary data but the body has ${available} after its ${headerLength}-byte JSON header`,
    );
  }
  let offset = headerLength;
  return sizes.map((size) => {
    if (size === undefined) return undefined;
    offset += size;
    return body.subarray(offset - size, offset);
  });
}

/**
 * Reads an infer request body, JSON or binary. `headerLength` is the request's
 * `Inference-Header-Content-Length` header (null when absent: then the body is all JSON). Binary
 * inputs come back with their bytes as `data`, ready for `decodeTensor` against the model.
 * `maxJsonValues` bounds what the JSON part may parse into (see `parseJson`).
 */
export function parseInferRequestBody(body: Uint8Array, headerLength: string | null | undefined, maxJsonValues?: number): WireInferRequest {
  const jsonLength = headerLengthOf(headerLength, body.length);
  let json: unknown;
  try {
    json = parseJson(body.subarray(0, jsonLength), maxJsonValues);
  } catch (err) {
    if (headerLength != null || !(err instanceof InvalidInput)) throw err;
    throw new InvalidInput(`${err.message} (a body with binary tensor data needs the ${inferenceHeaderContentLength} header)`);
  }
  const parsed = WireRequest.safeParse(json);
  if (!parsed.success) throw new InvalidInput(`invalid infer request: ${describeIssues(parsed.error)}`);
  const request = parsed.data;
  if (headerLength == null) {
    const binary = request.inputs.find((input) => input.parameters?.[binaryDataSize] !== undefined);
    if (binary)
      throw new InvalidInput(
        `input '${binary.name}' has ${binaryDataSize} but the request has no ${inferenceHeaderContentLength} header to say where its JSON ends`,
      );
  }
  const slices = sliceBinaryData('input', request.inputs, body, jsonLength);
  return { ...request, inputs: request.inputs.map((input, index) => ({ ...input, data: slices[index] ?? input.data! })) };
}

/**
 * Whether the caller asked for output `name` as binary data: the output's own `binary_data`
 * parameter, else the request's `binary_data_output`, else JSON.
 */
export function wantsBinaryOutput(request: Pick<InferRequest, 'parameters' | 'outputs'>, name: string): boolean {
  const own = request.outputs?.find((output) => output.name === name)?.parameters?.binary_data;
  if (typeof own === 'boolean') return own;
  return request.parameters?.binary_data_output === true;
}

/** JSON header followed by the binary parts, in order. */
function assemble(header: unknown, parts: readonly Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const body = new Uint8Array(json.length + parts.reduce((sum, part) => sum + part.length, 0));
  body.set(json, 0);
  let offset = json.length;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return { body, headerLength: json.length };
}

export interface InferResponseHead {
  model_name: string;
  model_version?: string | undefined;
  id?: string | undefined;
  parameters?: Parameters | undefined;
}

/** A body as consecutive parts, to be written one after another without joining them first. */
export interface EncodedParts {
  /** The JSON header (or the whole JSON body), then each binary output's bytes, viewing the tensor's own data. */
  parts: Uint8Array[];
  /** Length of the JSON header when binary data follows it; undefined for a plain JSON body. */
  headerLength: number | undefined;
  /** The body's length: the sum of the parts' lengths. */
  byteLength: number;
}

/**
 * `encodeInferResponse` without the final join: a server that can write several chunks (Node) saves
 * copying megabytes of outputs into one buffer. The parts view the outputs' data; do not change it
 * until they are written.
 */
export function encodeInferResponseParts(
  head: InferResponseHead,
  outputs: readonly Tensor[],
  request: Pick<InferRequest, 'parameters' | 'outputs'> = {},
): EncodedParts {
  const binary: Uint8Array[] = [];
  const encodedOutputs = outputs.map((tensor) => {
    if (!wantsBinaryOutput(request, tensor.name)) return encodeTensor(tensor);
    const bytes = tensorBytes(tensor);
    binary.push(bytes);
    return { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, parameters: { [binaryDataSize]: bytes.length } };
  });
  const json = new TextEncoder().encode(JSON.stringify({ ...head, outputs: encodedOutputs }));
  const parts = [json, ...binary];
  return {
    parts,
    headerLength: binary.length === 0 ? undefined : json.length,
    byteLength: parts.reduce((sum, part) => sum + part.length, 0),
  };
}

/**
 * Encodes a response: outputs the request asked for as binary (see `wantsBinaryOutput`) go after the
 * JSON header with `binary_data_size` and no `data`; the rest are JSON. Send `bodyHeaders(result)`.
 */
export function encodeInferResponse(
  head: InferResponseHead,
  outputs: readonly Tensor[],
  request: Pick<InferRequest, 'parameters' | 'outputs'> = {},
): EncodedBody {
  const { parts, headerLength, byteLength } = encodeInferResponseParts(head, outputs, request);
  if (parts.length === 1) return { body: parts[0]!, headerLength };
  const body = new Uint8Array(byteLength);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return { body, headerLength };
}

export interface BinaryInferRequest {
  id?: string;
  parameters?: Parameters;
  inputs: readonly Tensor[];
  /** Outputs to ask for; all of the model's when absent. */
  outputs?: readonly z.infer<typeof RequestOutput>[];
  /** Ask for every output as binary data (`binary_data_output`). */
  binaryOutputs?: boolean;
}

/** Encodes a request with every input as binary data, as the edge forwards requests to the backend. */
export function encodeBinaryInferRequest(request: BinaryInferRequest): EncodedBody & { headerLength: number } {
  const parts = request.inputs.map(tensorBytes);
  const parameters = request.binaryOutputs ? { ...request.parameters, binary_data_output: true } : request.parameters;
  const header = {
    ...(request.id !== undefined && { id: request.id }),
    ...(parameters !== undefined && { parameters }),
    inputs: request.inputs.map((tensor, index) => ({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape,
      parameters: { [binaryDataSize]: parts[index]!.length },
    })),
    ...(request.outputs !== undefined && { outputs: request.outputs }),
  };
  return assemble(header, parts);
}

export interface DecodedInferResponse {
  /** The response's JSON header (binary outputs have `binary_data_size` and no `data`). */
  header: WireResponse;
  /** Every output decoded, JSON or binary alike, in the response's order. */
  outputs: Tensor[];
}

/**
 * Reads an infer response body, JSON or binary, as a client (or the edge reading the backend) gets it.
 * A response that does not add up throws InvalidInput naming the problem; `maxElements` bounds what
 * one output may make the reader allocate.
 */
export function decodeInferResponseBody(
  body: Uint8Array,
  headerLength: string | null | undefined,
  maxElements = Number.MAX_SAFE_INTEGER,
): DecodedInferResponse {
  try {
    const jsonLength = headerLengthOf(headerLength, body.length);
    const parsed = WireResponse.safeParse(parseJson(body.subarray(0, jsonLength)));
    if (!parsed.success) throw new InvalidInput(describeIssues(parsed.error));
    const header = parsed.data;
    const slices = sliceBinaryData('output', header.outputs, body, jsonLength);
    const outputs = header.outputs.map((output, index) =>
      decodeTensor(
        { ...output, data: slices[index] ?? output.data! },
        { name: output.name, datatype: output.datatype, shape: output.shape },
        // A model may answer an empty tensor; only requests are refused one (protocol/shape.ts).
        { maxElements, allowEmpty: true },
      ),
    );
    return { header, outputs };
  } catch (err) {
    if (err instanceof HttpError) throw new InvalidInput(`invalid infer response: ${err.message}`);
    throw err;
  }
}
