// The worker thread that owns one model's onnxruntime session. onnxruntime-node's `session.run`
// computes on the calling thread, so running it on the main thread would stop the server from reading,
// parsing and queueing requests (and from answering health checks) for the length of every run; here
// it blocks only this worker. Messages are handled one at a time, in order.

import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { movableTensors, type SessionRequest, type SessionResponse, type WireTensor } from './session-messages.ts';

let session: ort.InferenceSession | undefined;

function reply(message: SessionResponse): void {
  if (message.type !== 'result') return parentPort!.postMessage(message);
  // Outputs are onnxruntime's fresh arrays, owned by nobody else here: moved, not copied.
  const { tensors, transfer } = movableTensors(message.outputs);
  parentPort!.postMessage({ ...message, outputs: tensors }, transfer);
}

async function load(weights: Uint8Array, providers: string[], options: ort.InferenceSession.SessionOptions): Promise<SessionResponse> {
  const failures: string[] = [];
  // Each provider in preference order; the session keeps the later ones as per-node fallbacks.
  for (const [index, provider] of providers.entries()) {
    try {
      session = await ort.InferenceSession.create(weights, { ...options, executionProviders: providers.slice(index) });
      return { type: 'loaded', provider, failures };
    } catch (err) {
      failures.push(`${provider} unavailable (${(err as Error).message.split('\n', 1)[0]})`);
    }
  }
  return { type: 'load-failed', failures };
}

async function run(id: number, inputs: WireTensor[], outputNames: string[]): Promise<SessionResponse> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs)
    feeds[input.name] = new ort.Tensor(input.ortType as ort.Tensor.Type, input.data as ort.Tensor.DataType, input.shape);
  try {
    const results = await session!.run(feeds, outputNames);
    const outputs = outputNames.map((name) => {
      const output = results[name]!;
      return { name, ortType: output.type, shape: [...output.dims], data: output.data as WireTensor['data'] };
    });
    return { type: 'result', id, outputs };
  } catch (err) {
    return { type: 'run-failed', id, message: (err as Error).message.split('\n', 1)[0]! };
  }
}

parentPort!.on('message', async (message: SessionRequest) => {
  switch (message.type) {
    case 'load':
      reply(await load(message.weights, message.providers, message.options));
      break;
    case 'run':
      reply(await run(message.id, message.inputs, message.outputNames));
      break;
    case 'release':
      await session?.release();
      session = undefined;
      reply({ type: 'released' });
      parentPort!.close();
      break;
  }
});
