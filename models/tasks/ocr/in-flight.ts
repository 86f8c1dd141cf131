// How many model calls the OCR pipeline keeps in flight at once. On the backend each model runs on its
// own session thread behind a batcher, so while one line's recogniser run computes there, the next
// line can be cropped and sent, and the previous one decoded, here on the main thread. At the edge
// onnxruntime-web runs in the isolate's one thread: a second call in flight would only interleave.

/** The backend's: one call computing, one being prepared or waiting behind it. */
export const backendModelCallsInFlight = 2;

/**
 * `work` over `items` with at most `limit` calls unsettled at once, started in order; resolves with
 * the results in the order of `items`. When a call fails no further one starts, and the first error
 * is thrown once the calls already started have settled, so no model work outlives the pipeline.
 */
export async function mapInFlight<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
