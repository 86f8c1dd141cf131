// The worker thread that owns one model's onnxruntime session. onnxruntime computes on the calling
// thread, so running it on the main thread would stop the server from reading, parsing and queueing
// requests (and from answering health checks) for the length of every run; here it blocks only this
// worker. The session is run synchronously (./native-session.ts says why and how): a run message is
// answered in one turn; a scan runs its steps in a tight loop and gives the event loop a turn every
// `scanStepsBetweenTurns` steps, so that messages sent meanwhile (a ping, a cancel, a release, another
// request's run) are answered mid-recording instead of after it.
//
// Every message is answered, whatever it throws: an error in one request (a tensor onnxruntime refuses
// to build, a run it refuses) is that request's answer, never the end of the thread. A thread that
// ends anyway is restarted by its owner (gpu-backend/runtime.ts).

import { setImmediate as nextTurn } from 'node:timers/promises';
import { parentPort } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { scanNative, scanStepsBetweenTurns, tensor } from './native-scan.ts';
import { loadNativeSession, type NativeSession, NoProviderLoaded } from './native-session.ts';
import {
  movableTensors,
  type ScanProgress,
  type SessionRequest,
  type SessionResponse,
  type WireScan,
  type WireTensor,
} from './session-messages.ts';

let session: NativeSession | undefined;
/** Scans under way (several interleave, a turn each), by request id: what a ping reports. */
const scans = new Map<number, ScanProgress>();
const cancelled = new Set<number>();

function reply(message: SessionResponse): void {
  if (message.type !== 'result') {
    parentPort!.postMessage(message);
    return;
  }
  // Outputs are onnxruntime's fresh arrays, owned by nobody else here: moved, not copied.
  const { tensors, transfer } = movableTensors(message.outputs);
  parentPort!.postMessage({ ...message, outputs: tensors }, transfer);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!;
}

function load(weights: Uint8Array, providers: string[], options: ort.InferenceSession.SessionOptions): SessionResponse {
  try {
    const loaded = loadNativeSession(weights, providers, options);
    session = loaded.session;
    return { type: 'loaded', provider: loaded.provider, failures: loaded.failures };
  } catch (err) {
    return { type: 'load-failed', failures: err instanceof NoProviderLoaded ? [...err.failures] : [firstLine(err)] };
  }
}

function live(): NativeSession {
  if (!session) throw new Error('the session was released');
  return session;
}

function run(inputs: WireTensor[], outputNames: string[]): WireTensor[] {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) feeds[input.name] = tensor(input);
  const results = live().run(feeds, outputNames);
  return outputNames.map((name) => {
    const output = results[name]!;
    return { name, ortType: output.type, shape: [...output.dims], data: output.data as WireTensor['data'] };
  });
}

/** A scan, its steps between turns of the event loop (see `scanStepsBetweenTurns`). */
async function scan(id: number, request: WireScan): Promise<WireTensor[]> {
  const progress: ScanProgress = { id, step: 0, steps: request.window.steps };
  scans.set(id, progress);
  try {
    const collected = await scanNative(live, request, {
      everySteps: scanStepsBetweenTurns,
      async pause(step) {
        progress.step = step;
        await nextTurn();
        if (cancelled.has(id)) throw new Error(`cancelled at step ${step} of ${request.window.steps}`);
      },
    });
    return [collected];
  } finally {
    scans.delete(id);
    cancelled.delete(id);
  }
}

async function handle(message: SessionRequest): Promise<SessionResponse | undefined> {
  switch (message.type) {
    case 'load':
      return load(message.weights, message.providers, message.options);
    case 'run':
    case 'scan':
      try {
        const outputs = message.type === 'run' ? run(message.inputs, message.outputNames) : await scan(message.id, message.scan);
        return { type: 'result', id: message.id, outputs };
      } catch (err) {
        return { type: 'run-failed', id: message.id, message: firstLine(err) };
      }
    case 'cancel':
      // Only a scan under way can be cancelled; a finished one has been answered already.
      if (scans.has(message.scanId)) cancelled.add(message.scanId);
      return undefined;
    case 'ping':
      return { type: 'pong', id: message.id, scans: [...scans.values()].map((progress) => ({ ...progress })) };
    case 'release':
      // A scan under way stops at its next turn, answered as failed: its session is gone.
      session?.release();
      session = undefined;
      return { type: 'released' };
  }
}

parentPort!.on('message', async (message: SessionRequest) => {
  const response = await handle(message);
  if (response) reply(response);
  if (message.type === 'release') parentPort!.close();
});
