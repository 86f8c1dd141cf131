// Reading and writing ONNX models with the protobuf classes of `onnx-proto`, and the small tensor and
// node helpers every quantization pass uses. Serialisation is deterministic: protobufjs writes fields
// in field-number order, and no pass adds timestamps or iterates an unordered collection.

import onnxProto from 'onnx-proto';

// onnx-proto is CommonJS: Node's ESM loader exposes its exports object as the default import (a named
// import fails at run time).
export const { onnx } = onnxProto;

// The shapes protobufjs gives decoded and created messages: repeated fields are always arrays and
// scalars default to '' or 0 (on the prototype), only absent sub-messages are null. onnx-proto's own
// interfaces type every field as optional, which would put a null check on every line of every pass.
type Int64 = number | { toNumber(): number };
export interface Tensor {
  name: string;
  dataType: number;
  dims: Int64[];
  rawData: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: Int64[];
}
export interface Attribute {
  name: string;
  type: number;
  f: number;
  i: Int64;
  t: Tensor | null;
  g: Graph | null;
  floats: number[];
  ints: Int64[];
  graphs: Graph[];
}
export interface Node {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}
export interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: unknown } | null } | null;
}
export interface Graph {
  name: string;
  node: Node[];
  initializer: Tensor[];
  input: ValueInfo[];
  output: ValueInfo[];
  valueInfo: ValueInfo[];
}
export interface Model {
  irVersion: Int64;
  opsetImport: { domain: string; version: Int64 }[];
  producerName: string;
  producerVersion: string;
  graph: Graph;
}

export const DataType = onnx.TensorProto.DataType;
export const AttrType = onnx.AttributeProto.AttributeType;

export function decodeModel(bytes: Uint8Array): Model {
  const model = onnx.ModelProto.decode(bytes) as unknown as Model;
  if (!model.graph) throw new Error('not an ONNX model: no graph');
  return model;
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model as unknown as onnxProto.onnx.IModelProto).finish();
}

/** int64 fields decode as Long objects (protobufjs with `long` installed) or numbers. */
export function toNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

export function dimsOf(tensor: Tensor): number[] {
  return tensor.dims.map(toNumber);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function copyBytes(view: ArrayBufferView): Uint8Array {
  // A fresh buffer: typed arrays over protobuf's decode buffer may be unaligned.
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

/** The float32 values of a FLOAT tensor, whether stored as raw_data or float_data (little-endian hosts). */
export function floatData(tensor: Tensor): Float32Array {
  if (tensor.dataType !== DataType.FLOAT) throw new Error(`tensor '${tensor.name}' is not float32 (data type ${tensor.dataType})`);
  if (tensor.rawData && tensor.rawData.length > 0) return new Float32Array(copyBytes(tensor.rawData).buffer);
  return Float32Array.from(tensor.floatData);
}

/** The values of an INT64 tensor as numbers. */
export function int64Data(tensor: Tensor): number[] {
  if (tensor.rawData && tensor.rawData.length > 0) {
    const bytes = copyBytes(tensor.rawData);
    return Array.from(new BigInt64Array(bytes.buffer), (v) => Number(v));
  }
  return tensor.int64Data.map(toNumber);
}

export function makeTensor(name: string, dataType: number, dims: readonly number[], data: ArrayBufferView): Tensor {
  return onnx.TensorProto.create({ name, dataType, dims: [...dims], rawData: copyBytes(data) }) as unknown as Tensor;
}

export const floatTensor = (name: string, dims: readonly number[], data: Float32Array) => makeTensor(name, DataType.FLOAT, dims, data);
export const int64Tensor = (name: string, values: readonly number[]) =>
  makeTensor(
    name,
    DataType.INT64,
    [values.length],
    BigInt64Array.from(values, (v) => BigInt(v)),
  );

export function attribute(node: Node, name: string): Attribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function intsAttribute(node: Node, name: string): number[] | undefined {
  const found = attribute(node, name);
  return found ? found.ints.map(toNumber) : undefined;
}

export function intAttribute(node: Node, name: string): number | undefined {
  const found = attribute(node, name);
  return found ? toNumber(found.i) : undefined;
}

export function intAttr(name: string, value: number): Attribute {
  return onnx.AttributeProto.create({ name, type: AttrType.INT, i: value }) as unknown as Attribute;
}

export function intsAttr(name: string, values: readonly number[]): Attribute {
  return onnx.AttributeProto.create({ name, type: AttrType.INTS, ints: [...values] }) as unknown as Attribute;
}

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attributes: Attribute[] = [],
  domain = '',
): Node {
  return onnx.NodeProto.create({
    opType,
    input: [...inputs],
    output: [...outputs],
    name,
    attribute: attributes as never,
    domain,
  }) as unknown as Node;
}

/** Every graph of the model: the main graph first, then the bodies of If/Loop/Scan nodes, depth first. */
export function allGraphs(graph: Graph): Graph[] {
  const graphs: Graph[] = [graph];
  for (const node of graph.node) {
    for (const attr of node.attribute) {
      if (attr.g) graphs.push(...allGraphs(attr.g));
      for (const sub of attr.graphs) graphs.push(...allGraphs(sub));
    }
  }
  return graphs;
}

/** The opset version of the default ("" or "ai.onnx") domain. */
export function defaultOpset(model: Model): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new Error('model imports no default-domain opset');
  return toNumber(entry.version);
}

/** Names unique across the whole model, for the tensors and nodes a pass adds. */
export class NameScope {
  readonly #taken = new Set<string>();
  constructor(model: Model) {
    for (const graph of allGraphs(model.graph)) {
      for (const t of graph.initializer) this.#taken.add(t.name);
      for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) this.#taken.add(v.name);
      for (const n of graph.node) {
        this.#taken.add(n.name);
        for (const name of [...n.input, ...n.output]) this.#taken.add(name);
      }
    }
  }
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.#taken.has(name); i++) name = `${base}_${i}`;
    this.#taken.add(name);
    return name;
  }
}
