// One model's onnxruntime session on its own worker thread (see ./session-worker.ts for why), behind
// an async `run` and `scan`. Each is answered by its id: a run sent during a long scan is answered
// between two of its steps, before the scan.

import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { datatypeFromOrt, datatypeOf } from '../protocol/datatypes.ts';
import type { Tensor } from '../protocol/tensor-codec.ts';
import { movableTensors, type ScanProgress, type SessionRequest, type SessionResponse, type WireScan } from './session-messages.ts';

export class RunFailed extends Error {
  override name = 'RunFailed';
}

interface Pending {
  resolve(response: SessionResponse): void;
  reject(err: Error): void;
}

export class SessionThread {
  readonly #worker: Worker;
  readonly #runs = new Map<number, Pending>();
  #control: Pending | undefined;
  #nextId = 0;
  #exited: Error | undefined;
  #closing = false;
  readonly #exitListeners: ((reason: Error) => void)[] = [];

  private constructor() {
    this.#worker = new Worker(new URL('./session-worker.ts', import.meta.url));
    this.#worker.on('message', (message: SessionResponse) => {
      if (message.type === 'result' || message.type === 'run-failed' || message.type === 'pong') {
        const pending = this.#runs.get(message.id);
        this.#runs.delete(message.id);
        pending?.resolve(message);
      } else {
        const control = this.#control;
        this.#control = undefined;
        control?.resolve(message);
      }
    });
    const fail = (err: Error) => {
      if (this.#exited) return;
      this.#exited = err;
      for (const pending of [...this.#runs.values(), ...(this.#control ? [this.#control] : [])]) pending.reject(err);
      this.#runs.clear();
      this.#control = undefined;
      if (!this.#closing) for (const listener of this.#exitListeners) listener(err);
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`session thread exited with code ${code}`)));
  }

  /** Why the thread stopped (crashed, or ran out of memory), or undefined while it runs. */
  get stopped(): Error | undefined {
    return this.#exited;
  }

  /** Calls `listener` once if the thread stops other than by `close` (its owner restarts it). */
  onUnexpectedExit(listener: (reason: Error) => void): void {
    this.#exitListeners.push(listener);
  }

  /**
   * Stops the thread at once, as a crash would: pending runs reject and exit listeners are told.
   * Only while it is idle: onnxruntime-node aborts the whole process when its thread is terminated
   * inside a native run.
   */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  /** Starts a thread and creates the session on the first provider that loads. */
  static async start(
    weights: Uint8Array,
    providers: readonly string[],
    options: ort.InferenceSession.SessionOptions,
  ): Promise<{ thread: SessionThread; provider: string; failures: string[] }> {
    const thread = new SessionThread();
    const response = await thread.#request({ type: 'load', weights, providers: [...providers], options });
    if (response.type !== 'loaded') {
      await thread.#worker.terminate();
      const failures = response.type === 'load-failed' ? response.failures : [];
      throw new Error(`no execution provider could load it: ${failures.join('; ')}`);
    }
    return { thread, provider: response.provider, failures: response.failures };
  }

  #request(message: SessionRequest): Promise<SessionResponse> {
    if (this.#exited) return Promise.reject(this.#exited);
    return new Promise((resolve, reject) => {
      this.#control = { resolve, reject };
      this.#worker.postMessage(message);
    });
  }

  /**
   * Runs the session; rejects with RunFailed when onnxruntime refuses the inputs. The inputs' buffers
   * are transferred to the session thread (see `movable`): a caller must not read them afterwards.
   */
  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    if (this.#exited) throw this.#exited;
    const id = this.#nextId++;
    const response = await new Promise<SessionResponse>((resolve, reject) => {
      this.#runs.set(id, { resolve, reject });
      const { tensors, transfer } = movableTensors(
        inputs.map((t) => ({ name: t.name, ortType: datatypeOf(t.datatype).ortType, shape: t.shape, data: t.data })),
      );
      try {
        this.#worker.postMessage({ type: 'run', id, inputs: tensors, outputNames: [...outputNames] } satisfies SessionRequest, transfer);
      } catch (err) {
        // Not sent (a buffer that cannot be moved): nothing will answer this id.
        this.#runs.delete(id);
        reject(err);
      }
    });
    return this.#outputs(response);
  }

  /**
   * Runs a ScanRequest (models/tasks/run-model.ts) on the thread in one message: every step there,
   * the carried state never crossing threads. `window.data` is copied to the thread, not moved.
   * `signal` aborting stops the scan at its next turn (a few ms), rejected with RunFailed.
   */
  async scan(scan: WireScan, signal?: AbortSignal): Promise<Tensor[]> {
    if (this.#exited) throw this.#exited;
    signal?.throwIfAborted();
    const id = this.#nextId++;
    const cancel = () => this.#post({ type: 'cancel', scanId: id });
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      return this.#outputs(await this.#send(id, { type: 'scan', id, scan }));
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /**
   * Asks the thread how it is: answered between two steps of any scan under way, with where each
   * scan stands, so a thread busy with a long recording still answers (one that does not is stuck).
   */
  async ping(): Promise<ScanProgress[]> {
    if (this.#exited) throw this.#exited;
    const id = this.#nextId++;
    const response = await this.#send(id, { type: 'ping', id });
    if (response.type !== 'pong') throw new Error(`unexpected session thread reply ${response.type}`);
    return response.scans;
  }

  /** Sends a message answered by its id. */
  #send(id: number, message: SessionRequest): Promise<SessionResponse> {
    return new Promise<SessionResponse>((resolve, reject) => {
      this.#runs.set(id, { resolve, reject });
      try {
        this.#worker.postMessage(message);
      } catch (err) {
        this.#runs.delete(id);
        reject(err);
      }
    });
  }

  /** Sends a message that is not answered (a cancel): nothing to do if the thread is gone. */
  #post(message: SessionRequest): void {
    if (!this.#exited) this.#worker.postMessage(message);
  }

  #outputs(response: SessionResponse): Tensor[] {
    if (response.type === 'run-failed') throw new RunFailed(response.message);
    if (response.type !== 'result') throw new Error(`unexpected session thread reply ${response.type}`);
    return response.outputs.map((output) => {
      const datatype = datatypeFromOrt(output.ortType);
      if (!datatype) throw new Error(`output '${output.name}' has type ${output.ortType}, which the protocol cannot carry`);
      return { name: output.name, datatype, shape: output.shape, data: output.data };
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#exited) return;
    await this.#request({ type: 'release' }).catch(() => undefined);
    await this.#worker.terminate();
  }
}
