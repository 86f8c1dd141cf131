// Reads a request body within the edge's limit for its kind of route (protocol/edge-limits.ts), which
// is below what the manifest allows the backend: past it, 413 names both, so the caller knows what
// the edge takes and how to send the rest (smaller pieces, binary tensors).

import { readBodyWithLimit } from '../../protocol/body.ts';
import { PayloadTooLarge } from '../../protocol/errors.ts';

export interface BodyLimits {
  /** What the manifest allows (the backend's limit for the same request). */
  routeBytes: number;
  /** What the edge reads, for this route and body kind. */
  edgeBytes: number;
  /** How to send less: a sentence for the 413. */
  advice: string;
}

export async function readEdgeBody(request: Request, limits: BodyLimits): Promise<Uint8Array> {
  if (limits.routeBytes <= limits.edgeBytes) return readBodyWithLimit(request, limits.routeBytes);
  try {
    return await readBodyWithLimit(request, limits.edgeBytes);
  } catch (err) {
    if (!(err instanceof PayloadTooLarge)) throw err;
    throw new PayloadTooLarge(
      `request body exceeds the edge's limit of ${limits.edgeBytes} bytes for this request (an isolate has 128 MB for everything; the backend's limit is ${limits.routeBytes} bytes, and the edge forwards only what it can hold): ${limits.advice}`,
    );
  }
}
