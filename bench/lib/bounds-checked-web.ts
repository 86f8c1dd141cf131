// onnxruntime-web in a child Node process whose V8 checks every WebAssembly memory access explicitly
// (--wasm-enforce-bounds-checks), as workerd's V8 does: workerd never installs V8's WebAssembly trap
// handler (v8::V8::EnableWebAssemblyTrapHandler), which lets Node and Chrome drop those checks and
// catch out-of-bounds accesses with a guard region instead. bench:edge runs the same file and input
// here beside the Worker, to show how much of the edge's gap to native is that runtime's choice.
//
// The child loads one model per `load` message and answers each `run` with the milliseconds that
// session.run took, timed inside it.

import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonTensor } from '../../test/support/infer.ts';
import { ortFeeds } from './ort-feeds.ts';

type Request = { load: { path: string; inputs: JsonTensor[] } } | { run: true };
type Reply = { loaded: true } | { ms: number } | { error: string };

async function serve(): Promise<void> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>> | undefined;
  let feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  const reply = (message: Reply) => process.send!(message);
  process.on('message', async (message: Request) => {
    try {
      if ('load' in message) {
        await session?.release();
        const options = { graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false } as const;
        session = await ort.InferenceSession.create(readFileSync(message.load.path), options);
        feeds = ortFeeds(ort, message.load.inputs);
        reply({ loaded: true });
      } else {
        const started = performance.now();
        await session!.run(feeds);
        reply({ ms: performance.now() - started });
      }
    } catch (err) {
      reply({ error: (err as Error).message });
    }
  });
}

export interface BoundsCheckedWeb {
  load(path: string, inputs: JsonTensor[]): Promise<void>;
  /** One session.run in the child, in milliseconds as the child timed it. */
  run(): Promise<number>;
  stop(): void;
}

export function startBoundsCheckedWeb(): BoundsCheckedWeb {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--wasm-enforce-bounds-checks'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = (message: Request) =>
    new Promise<Reply>((resolve, reject) => {
      child.once('message', (answer: Reply) => ('error' in answer ? reject(new Error(answer.error)) : resolve(answer)));
      child.send(message);
    });
  return {
    async load(path, inputs) {
      await ask({ load: { path, inputs } });
    },
    async run() {
      return ((await ask({ run: true })) as { ms: number }).ms;
    },
    stop: () => child.kill(),
  };
}

if (process.argv.includes('--serve')) await serve();
