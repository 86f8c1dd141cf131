// Concurrent identical misses within an isolate run once: the first caller runs the work, the others
// wait for its outcome. Only in-flight work is shared; nothing stays once it settles.

export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  /** `leader` says whether this caller ran `work` or joined a run already under way. */
  async run(key: string, work: () => Promise<T>): Promise<{ value: T; leader: boolean }> {
    const running = this.#inFlight.get(key);
    if (running) return { value: await running, leader: false };
    const started = work().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return { value: await started, leader: true };
  }
}
