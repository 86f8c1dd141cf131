// A ScanRequest (models/tasks/run-model.ts) run on a NativeSession: every step a synchronous run on
// the calling thread, the carried state never leaving it. The session worker runs scans this way; the
// benchmark runs the same loop with no pauses and no thread as the floor.

import * as ort from 'onnxruntime-node';
import type { NativeSession } from './native-session.ts';
import type { WireScan, WireTensor } from './session-messages.ts';

/** An onnxruntime tensor over a wire tensor's data (no copy). */
export function tensor(wire: Pick<WireTensor, 'ortType' | 'data' | 'shape'>): ort.Tensor {
  return new ort.Tensor(wire.ortType as ort.Tensor.Type, wire.data as ort.Tensor.DataType, wire.shape);
}

/**
 * Steps of a scan between two turns of the session thread's event loop: 64 Silero frames are ~2 s of
 * audio and ~8 ms of model, the most a message sent meanwhile waits; a turn costs a few microseconds,
 * well under 1% of those steps.
 */
export const scanStepsBetweenTurns = 64;

export interface ScanPauses {
  /** Steps between two pauses. */
  everySteps: number;
  /** Awaited before step `step` (a multiple of everySteps, never 0); throws to stop the scan. */
  pause(step: number): Promise<void>;
}

/**
 * Runs `scan` on `session` (`session()` is asked for it before every step, so that a session released
 * during a pause fails the scan rather than reaching onnxruntime). Resolves `collect` of every step.
 */
export async function scanNative(session: () => NativeSession, scan: WireScan, pauses?: ScanPauses): Promise<WireTensor> {
  const { window, carry, fixed, collect } = scan;
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of fixed) feeds[input.name] = tensor(input);
  feeds[carry.input] = tensor(carry.initial);
  const fetches = [collect, carry.output];
  let collected: Float32Array | undefined;
  let collectedShape: number[] = [];
  // One window buffer and tensor for every step, refilled in place: no allocation per step.
  const windowData = new Float32Array(window.width);
  feeds[window.name] = new ort.Tensor('float32', windowData, [1, window.width]);
  for (let step = 0; step < window.steps; step++) {
    if (pauses && step > 0 && step % pauses.everySteps === 0) await pauses.pause(step);
    const offset = step * window.hop;
    windowData.set(window.data.subarray(offset, offset + window.width));
    const results = session().run(feeds, fetches);
    const kept = results[collect]!;
    const keptData = kept.data as Float32Array;
    if (!collected) {
      collected = new Float32Array(window.steps * keptData.length);
      collectedShape = [window.steps, ...kept.dims.slice(1)];
    }
    collected.set(keptData, step * keptData.length);
    // The state is fed back as onnxruntime answered it: same data, the carried input's shape.
    const next = results[carry.output]!;
    feeds[carry.input] = new ort.Tensor(next.type, next.data as ort.Tensor.DataType, carry.initial.shape);
  }
  return { name: collect, ortType: 'float32', shape: collectedShape, data: collected ?? new Float32Array(0) };
}
