// The largest request bodies the edge reads, per kind of route. A Worker isolate has 128 MB for
// everything at once (the runtime, every session, the weights as modules), so the edge holds requests
// to less than the manifests allow the backend: `npm run models -- check` counts the largest request
// of each route under these numbers, body and decode, and fails when one would not fit. A larger
// request is refused with 413 naming the edge's limit and the manifest's (which the backend enforces).

const MiB = 1024 * 1024;

export interface EdgeRequestLimits {
  /** `/v2/models/{name}/infer` with binary tensor data: the tensors' bytes and a small JSON header. */
  inferBinaryBytes: number;
  /**
   * `/v2/models/{name}/infer` as JSON: each value costs the parser and the tensor far more than its
   * bytes. No lower than a whole paddleocr-cls batch (its manifest's 4 MiB: 8 crops of float32 printed
   * as JSON), which the edge runs itself.
   */
  inferJsonBytes: number;
  /**
   * `/v1/{task}` with one raw file (audio/wav, image/png…): room for a recording of the VAD task's
   * longest duration at its lowest rate (600 s of 8 kHz 16-bit mono, 9.6 MB), so that limit stays the
   * one a caller meets first.
   */
  taskRawBytes: number;
  /** `/v1/{task}` as JSON: base64 files, decoded beside the body. */
  taskJsonBytes: number;
}

export const edgeRequestLimits: EdgeRequestLimits = {
  inferBinaryBytes: 8 * MiB,
  inferJsonBytes: 4 * MiB,
  taskRawBytes: 10 * MiB,
  taskJsonBytes: 4 * MiB,
};
