// The Open Inference Protocol's view of a manifest: what `GET /v2/models/{name}` answers on both tiers.

import type { ModelMetadata, TensorMetadata } from '../protocol/schemas.ts';
import { type Manifest, servableVersions, type TensorSpec } from './manifest.ts';

const toMetadata = ({ name, datatype, shape }: TensorSpec): TensorMetadata => ({ name, datatype, shape });

export function modelMetadata(manifest: Manifest): ModelMetadata {
  return {
    name: manifest.name,
    versions: servableVersions(manifest).map((v) => v.version),
    platform: 'onnxruntime_onnx',
    inputs: manifest.inputs.map(toMetadata),
    outputs: manifest.outputs.map(toMetadata),
  };
}
