// Silero VAD over one recording on the backend's own session thread (gpu-backend/session-thread.ts),
// one onnxruntime thread, four ways side by side: every frame as its own message to the thread (a
// round trip per 32 ms frame), all frames as one scan message (how /v1/vad runs: the thread's
// synchronous native loop, gpu-backend/native-scan.ts), onnxruntime-node's public async `run` in a
// loop on this thread (a promise and an event-loop turn per frame), and the same native loop as the
// thread's on this thread with no worker and no pauses: the model alone, the floor. Each is checked to
// give the same probabilities as the others.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionOptions } from '../../gpu-backend/runtime.ts';
import { scanNative } from '../../gpu-backend/native-scan.ts';
import { loadNativeSession } from '../../gpu-backend/native-session.ts';
import type { WireScan } from '../../gpu-backend/session-messages.ts';
import { SessionThread } from '../../gpu-backend/session-thread.ts';
import * as ort from 'onnxruntime-node';
import { findVersion, parseManifest } from '../../models/manifest.ts';
import { scanByRuns } from '../../models/tasks/scan.ts';
import type { RunModel, ScanRequest } from '../../models/tasks/run-model.ts';
import { decodeWav, inspectWav } from '../../models/tasks/vad/index.ts';
import { frameAudio, speechProbabilities } from '../../models/tasks/vad/silero.ts';
import { repoRoot } from '../../test/support/edge-worker.ts';
import { summarise } from './stats.ts';

export interface VadSessionRow {
  way: string;
  p50Ms: number;
  realTimeFactor: number;
  maxDifference: number;
  /** p50 over the floor's p50: what the way costs beyond the model itself. */
  timesFloor: number;
  /**
   * Audio seconds per second of this process's CPU time (every thread, p50): on a machine shared with
   * other work, wall time counts the waits for a core, CPU time only the work (main thread included).
   */
  realTimeFactorPerCpuSecond: number;
}

const floorWay = 'native synchronous loop on this thread (the model alone: the floor)';

function wireScan(request: ScanRequest): WireScan {
  return {
    window: request.window,
    carry: { ...request.carry, initial: { name: request.carry.input, ortType: 'float32', ...request.carry.initial } },
    fixed: Object.entries(request.fixed).map(([name, tensor]) => ({ name, ortType: 'int64', shape: tensor.shape, data: tensor.data })),
    collect: request.collect,
  };
}

/** Runs `wavBytes` `rounds` times each way, interleaved, on the silero-vad version the backend serves. */
export async function vadOnSessionThread(wavBytes: Uint8Array, rounds: number): Promise<{ version: string; rows: VadSessionRow[] }> {
  const info = inspectWav(wavBytes, 3600);
  const audio = frameAudio(decodeWav(wavBytes, info), info.sampleRate);
  const dir = join(repoRoot, 'models/silero-vad');
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')), 'silero-vad');
  const served = findVersion(manifest, undefined, 'gpu');
  if (!served) throw new Error('the backend serves no version of silero-vad');
  const weights = new Uint8Array(await readFile(join(dir, served.file)));
  const options = sessionOptions(1);
  const { thread } = await SessionThread.start(weights, ['cpu'], options);
  const inProcess = await ort.InferenceSession.create(weights, { ...options, executionProviders: ['cpu'] });
  const { session: native } = loadNativeSession(weights, ['cpu'], options);
  try {
    const perFrame: RunModel = async (_model, feeds) => {
      const names = Object.keys(feeds);
      const outputs = await thread.run(
        names.map((name) => ({ name, ...feeds[name]! })),
        ['output', 'stateN'],
      );
      return Object.fromEntries(outputs.map(({ name, ...tensor }) => [name, tensor]));
    };
    const scanThread = async (_model: string, request: ScanRequest) => {
      const [collected] = await thread.scan(wireScan(request));
      return collected!.data as Float32Array;
    };
    const scanHere = async (_model: string, request: ScanRequest) =>
      (await scanNative(() => native, wireScan(request))).data as Float32Array;
    const local: RunModel = async (_model, feeds) => {
      const ortFeeds = Object.fromEntries(
        Object.entries(feeds).map(([name, t]) => [
          name,
          // A copy of each window, as the other two ways send it.
          new ort.Tensor(t.datatype === 'INT64' ? 'int64' : 'float32', t.data.slice() as Float32Array, t.shape),
        ]),
      );
      const results = await inProcess.run(ortFeeds);
      return Object.fromEntries(
        Object.entries(results).map(([name, t]) => [name, { datatype: 'FP32' as const, shape: [...t.dims], data: t.data as Float32Array }]),
      );
    };
    const ways: Record<string, () => Promise<Float32Array>> = {
      'session thread, one message per frame': () => speechProbabilities(audio, scanByRuns(perFrame), 'silero-vad'),
      'session thread, one scan message per recording (how /v1/vad runs)': () => speechProbabilities(audio, scanThread, 'silero-vad'),
      "onnxruntime-node's public async run, a loop on this thread": () => speechProbabilities(audio, scanByRuns(local), 'silero-vad'),
      [floorWay]: () => speechProbabilities(audio, scanHere, 'silero-vad'),
    };
    const reference = await ways["onnxruntime-node's public async run, a loop on this thread"]!();
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
    const cpuTimes: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
    const differences: Record<string, number> = {};
    for (const [way, run] of Object.entries(ways)) {
      const probabilities = await run();
      differences[way] = Math.max(...probabilities.map((p, i) => Math.abs(p - reference[i]!)));
    }
    for (let round = 0; round < rounds; round++) {
      for (const [way, run] of Object.entries(ways)) {
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        await run();
        const cpu = process.cpuUsage(cpuBefore);
        times[way]!.push(performance.now() - started);
        cpuTimes[way]!.push((cpu.user + cpu.system) / 1000);
      }
    }
    const audioSeconds = info.durationMs / 1000;
    const floorMs = summarise(times[floorWay]!).p50;
    const rows = Object.entries(times).map(([way, samples]) => {
      const p50Ms = summarise(samples).p50;
      const cpuMs = summarise(cpuTimes[way]!).p50;
      return {
        way,
        p50Ms,
        realTimeFactor: audioSeconds / (p50Ms / 1000),
        maxDifference: differences[way]!,
        timesFloor: p50Ms / floorMs,
        realTimeFactorPerCpuSecond: audioSeconds / (cpuMs / 1000),
      };
    });
    return { version: served.version, rows };
  } finally {
    await thread.close();
    await inProcess.release();
    native.release();
  }
}
