// The messages between the runtime (main thread) and a session worker (./session-worker.ts).
// Tensors cross as structured clones: typed arrays with onnxruntime's element type names.

import type * as ort from 'onnxruntime-node';
import type { TensorData } from '../protocol/datatypes.ts';

export interface WireTensor {
  name: string;
  ortType: string;
  shape: number[];
  data: TensorData;
}

export type SessionRequest =
  | { type: 'load'; weights: Uint8Array; providers: string[]; options: ort.InferenceSession.SessionOptions }
  | { type: 'run'; id: number; inputs: WireTensor[]; outputNames: string[] }
  | { type: 'release' };

export type SessionResponse =
  | { type: 'loaded'; provider: string; failures: string[] }
  | { type: 'load-failed'; failures: string[] }
  | { type: 'result'; id: number; outputs: WireTensor[] }
  | { type: 'run-failed'; id: number; message: string }
  | { type: 'released' };
