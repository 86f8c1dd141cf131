// Zod schemas for the Open Inference Protocol v2 REST messages (KServe / Triton "v2"), shared by both
// tiers and by clients. Tensor `data` is checked only for being an array here: its elements are
// validated once, while they are copied into a typed array, by `decodeTensor` (protocol/tensor-codec.ts).

import { z } from 'zod';
import { Datatype } from './datatypes.ts';

const Parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const ServerMetadata = z.object({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
});
export type ServerMetadata = z.infer<typeof ServerMetadata>;

export const TensorMetadata = z.object({
  name: z.string(),
  datatype: Datatype,
  /** -1 marks a dimension whose size the caller chooses. */
  shape: z.array(z.number().int().min(-1)),
});
export type TensorMetadata = z.infer<typeof TensorMetadata>;

export const ModelMetadata = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(TensorMetadata),
  outputs: z.array(TensorMetadata),
});
export type ModelMetadata = z.infer<typeof ModelMetadata>;

export const RequestInput = z.object({
  name: z.string().min(1),
  shape: z.array(z.number()),
  datatype: z.string(),
  parameters: Parameters.optional(),
  data: z
    .custom<unknown[]>((value) => Array.isArray(value), { message: 'data must be an array' })
    .meta({ type: 'array', items: {}, description: 'the values in row-major order, flat or nested to the rank of shape' }),
});
export type RequestInput = z.infer<typeof RequestInput>;

export const RequestOutput = z.object({
  name: z.string().min(1),
  parameters: Parameters.optional(),
});

export const InferRequest = z.object({
  id: z.string().max(256).optional(),
  parameters: Parameters.optional(),
  inputs: z.array(RequestInput).min(1),
  outputs: z.array(RequestOutput).optional(),
});
export type InferRequest = z.infer<typeof InferRequest>;

export const ResponseOutput = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  datatype: Datatype,
  parameters: Parameters.optional(),
  // NaN and ±Infinity by name (protocol/datatypes.ts): JSON numbers cannot hold them. Literals, not an
  // enum: TypeScript declares an enum keyed '-Infinity' as the computed key [-Infinity], which no
  // consumer of the client's declarations can compile.
  data: z.array(z.union([z.number(), z.boolean(), z.literal('NaN'), z.literal('Infinity'), z.literal('-Infinity')])),
});
export type ResponseOutput = z.infer<typeof ResponseOutput>;

export const InferResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: Parameters.optional(),
  outputs: z.array(ResponseOutput),
});
export type InferResponse = z.infer<typeof InferResponse>;

export const ErrorResponse = z.object({ error: z.string() });
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** The first few zod issues as one line, each named by its path, e.g. `inputs.0.shape: expected array`. */
export function describeIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`)
    .join('; ');
}
