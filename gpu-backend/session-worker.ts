// The worker thread that owns one model's onnxruntime session. onnxruntime-node's `session.run`
// computes on the calling thread, so running it on the main thread would stop the server from reading,
// parsing and queueing requests (and from answering health checks) for the length of every run; here
// it blocks only this worker. Messages are handled one at a time, in order.
//
// Every message is answered, whatever it throws: an error in one request (a tensor onnxruntime refuses
// to build, a run it refuses) is that request's answer, never the end of the thread. A thread that
// ends anyway is restarted by its owner (gpu-backend/runtime.ts).

import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { movableTensors, type SessionRequest, type SessionResponse, type WireScan, type WireTensor } from './session-messages.ts';

let session: ort.InferenceSession | undefined;

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

async function load(weights: Uint8Array, providers: string[], options: ort.InferenceSession.SessionOptions): Promise<SessionResponse> {
  const failures: string[] = [];
  // Each provider in preference order; the session keeps the later ones as per-node fallbacks.
  for (const [index, provider] of providers.entries()) {
    try {
      session = await ort.InferenceSession.create(weights, { ...options, executionProviders: providers.slice(index) });
      return { type: 'loaded', provider, failures };
    } catch (err) {
      failures.push(`${provider} unavailable (${firstLine(err)})`);
    }
  }
  return { type: 'load-failed', failures };
}

function tensor(wire: Pick<WireTensor, 'ortType' | 'data' | 'shape'>): ort.Tensor {
  return new ort.Tensor(wire.ortType as ort.Tensor.Type, wire.data as ort.Tensor.DataType, wire.shape);
}

async function run(inputs: WireTensor[], outputNames: string[]): Promise<WireTensor[]> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) feeds[input.name] = tensor(input);
  const results = await session!.run(feeds, outputNames);
  return outputNames.map((name) => {
    const output = results[name]!;
    return { name, ortType: output.type, shape: [...output.dims], data: output.data as WireTensor['data'] };
  });
}

/**
 * A recurrent model over a sequence (models/tasks/run-model.ts `ScanRequest`), every step here: a
 * step costs the model's run and no message between threads (a Silero frame runs in ~0.1 ms; a round
 * trip to this thread per frame cost more than the frame itself).
 */
async function scan({ window, carry, fixed, collect }: WireScan): Promise<WireTensor[]> {
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
    const offset = step * window.hop;
    windowData.set(window.data.subarray(offset, offset + window.width));
    const results = await session!.run(feeds, fetches);
    const kept = results[collect]!;
    const keptData = kept.data as Float32Array;
    if (!collected) {
      collected = new Float32Array(window.steps * keptData.length);
      collectedShape = [window.steps, ...kept.dims.slice(1)];
    }
    collected.set(keptData, step * keptData.length);
    const next = results[carry.output]!;
    feeds[carry.input] = new ort.Tensor(next.type, next.data as ort.Tensor.DataType, carry.initial.shape);
  }
  return [{ name: collect, ortType: 'float32', shape: collectedShape, data: collected ?? new Float32Array(0) }];
}

async function handle(message: SessionRequest): Promise<SessionResponse> {
  switch (message.type) {
    case 'load':
      try {
        return await load(message.weights, message.providers, message.options);
      } catch (err) {
        return { type: 'load-failed', failures: [firstLine(err)] };
      }
    case 'run':
    case 'scan':
      try {
        const outputs = message.type === 'run' ? await run(message.inputs, message.outputNames) : await scan(message.scan);
        return { type: 'result', id: message.id, outputs };
      } catch (err) {
        return { type: 'run-failed', id: message.id, message: firstLine(err) };
      }
    case 'release':
      await session?.release().catch(() => undefined);
      session = undefined;
      return { type: 'released' };
  }
}

parentPort!.on('message', async (message: SessionRequest) => {
  reply(await handle(message));
  if (message.type === 'release') parentPort!.close();
});
