// The messages between the runtime (main thread) and a session worker (./session-worker.ts).
// Tensors cross as typed arrays with onnxruntime's element type names, their buffers moved (transferred)
// rather than copied: see `movable`.

import type * as ort from 'onnxruntime-node';
import type { TensorData } from '../protocol/datatypes.ts';

export interface WireTensor {
  name: string;
  ortType: string;
  shape: number[];
  data: TensorData;
}

/**
 * A recurrent model run over a sequence in one message (models/tasks/scan.ts): the window input slides
 * over `window.data`, the carried output feeds the next step, `collect` is gathered from every step.
 */
export interface WireScan {
  window: { name: string; data: Float32Array; width: number; hop: number; steps: number };
  carry: { input: string; output: string; initial: WireTensor };
  fixed: WireTensor[];
  collect: string;
}

/** Where a scan under way stands: `step` of `steps` done, as of its last turn of the event loop. */
export interface ScanProgress {
  id: number;
  step: number;
  steps: number;
}

export type SessionRequest =
  | { type: 'load'; weights: Uint8Array; providers: string[]; options: ort.InferenceSession.SessionOptions }
  | { type: 'run'; id: number; inputs: WireTensor[]; outputNames: string[] }
  | { type: 'scan'; id: number; scan: WireScan }
  /** Stops scan `scanId` at its next turn; it is answered run-failed. Not itself answered. */
  | { type: 'cancel'; scanId: number }
  /** Answered with a pong, between two steps of any scan under way (the thread's health). */
  | { type: 'ping'; id: number }
  | { type: 'release' };

export type SessionResponse =
  | { type: 'loaded'; provider: string; failures: string[] }
  | { type: 'load-failed'; failures: string[] }
  | { type: 'result'; id: number; outputs: WireTensor[] }
  | { type: 'run-failed'; id: number; message: string }
  | { type: 'pong'; id: number; scans: ScanProgress[] }
  | { type: 'released' };

/**
 * A tensor's data ready to be moved to the other thread, and the buffer to transfer with it. Structured
 * cloning copies a tensor (and, for a view, its whole underlying buffer) on both sides of the handoff,
 * which for megabytes of tensors costs milliseconds and garbage collections per run; transferring moves
 * the buffer at no cost and detaches it here. Data that owns its whole buffer moves as is; a view into a
 * larger buffer (e.g. a request body) is copied to a buffer of its own first, so that the rest of that
 * buffer stays usable; shared memory is left to be cloned.
 */
export function movable(data: TensorData): { data: TensorData; transfer: ArrayBuffer[] } {
  const { buffer } = data;
  if (!(buffer instanceof ArrayBuffer)) return { data, transfer: [] };
  if (data.byteOffset === 0 && data.byteLength === buffer.byteLength) return { data, transfer: [buffer] };
  const own = data.slice() as TensorData;
  return { data: own, transfer: [own.buffer as ArrayBuffer] };
}

/** Wire tensors with their data made movable, and every buffer to transfer with them. */
export function movableTensors(tensors: readonly WireTensor[]): { tensors: WireTensor[]; transfer: ArrayBuffer[] } {
  // A set: two tensors over one buffer move it once (listing a buffer twice is a DataCloneError).
  const transfer = new Set<ArrayBuffer>();
  const moved = tensors.map((tensor) => {
    const { data, transfer: buffers } = movable(tensor.data);
    for (const buffer of buffers) transfer.add(buffer);
    return { ...tensor, data };
  });
  return { tensors: moved, transfer: [...transfer] };
}
