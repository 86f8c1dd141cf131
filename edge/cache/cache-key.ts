// What makes two requests identical for the response cache: the same scope (owner, or shared), model
// and version, inputs, requested outputs and options, as canonical bytes hashed with SHA-256. Canonical:
// JSON key order, whitespace and the wire format of the tensors (JSON or binary) do not change it.

import { wantsBinaryOutput } from '../../protocol/binary.ts';
import { tensorBytes } from '../../protocol/tensor-codec.ts';
import type { DecodedInferRequest } from '../../models/infer-request.ts';
import type { WireInferRequest } from '../../protocol/binary.ts';

const encoder = new TextEncoder();

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hex SHA-256 over the parts, each preceded by its length so no two part lists collide. */
export async function cacheKeyHex(parts: readonly Uint8Array[]): Promise<string> {
  const total = parts.reduce((sum, part) => sum + 8 + part.byteLength, 0);
  const joined = new Uint8Array(total);
  const view = new DataView(joined.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setBigUint64(offset, BigInt(part.byteLength));
    joined.set(part, offset + 8);
    offset += 8 + part.byteLength;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * An infer request's canonical parts: a header naming model, version, the answer's id (echoed in it),
 * each input's name, datatype and shape in the manifest's order, the outputs asked for in the caller's
 * order with their encoding, and the parameters; then each input's little-endian bytes.
 */
export function inferRequestParts(
  model: { name: string; version: string },
  wire: WireInferRequest,
  decoded: DecodedInferRequest,
): Uint8Array[] {
  const header = canonicalJson({
    model: model.name,
    version: model.version,
    id: wire.id ?? null,
    inputs: decoded.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    outputs: decoded.outputNames.map((name) => ({ name, binary: wantsBinaryOutput(wire, name) })),
    parameters: wire.parameters ?? {},
  });
  return [encoder.encode(header), ...decoded.inputs.map((input) => tensorBytes(input))];
}

export const textPart = (text: string) => encoder.encode(text);
