// The two runtimes versions are tuned in, set up as the tiers set them up: onnxruntime-web's WASM build
// on one thread with the edge's session options (edge/wasm-runtime.ts; a tool may not import a tier),
// and onnxruntime-node's CPU provider with one intra-op thread for the backend.

import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import type { NamedTensors } from '../../../models/tasks/run-model.ts';
import { toOrtFeeds } from '../quantize/ort-run.ts';

export const tunedTiers = ['edge', 'gpu'] as const;
export type TunedTier = (typeof tunedTiers)[number];

export const runtimeNames: Record<TunedTier, string> = { edge: 'onnxruntime-web WASM, 1 thread', gpu: 'onnxruntime-node CPU, 1 thread' };

/** Runs the captured feeds once, in order; resolves when the last run has answered. */
export interface Runner {
  runAll(): Promise<void>;
  release(): Promise<void>;
}

export async function createRunner(tier: TunedTier, bytes: Uint8Array, inputs: readonly NamedTensors[]): Promise<Runner> {
  if (tier === 'edge') {
    ortWeb.env.wasm.numThreads = 1; // workerd has no threads for WebAssembly
    const session = await ortWeb.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
      enableCpuMemArena: false,
      enableMemPattern: false,
    });
    const feeds = inputs.map((f) =>
      Object.fromEntries(Object.entries(toOrtFeeds(f)).map(([k, t]) => [k, new ortWeb.Tensor(t.type, t.data as never, t.dims)])),
    );
    return { runAll: async () => void (await runInOrder(feeds, (f) => session.run(f))), release: () => session.release() };
  }
  const session = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const feeds = inputs.map(toOrtFeeds);
  return { runAll: async () => void (await runInOrder(feeds, (f) => session.run(f))), release: () => session.release() };
}

async function runInOrder<F>(feeds: readonly F[], run: (feed: F) => Promise<unknown>): Promise<void> {
  for (const feed of feeds) await run(feed);
}
