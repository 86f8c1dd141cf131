// The GPU backend's measured run time, returned to the edge on a channel the edge trusts: the edge
// bills GPU work by it (models/units.ts), so a value anyone on the path could write would be a price
// anyone could set. Same secret and HMAC as the edge's request signatures (protocol/signature.ts).
//
//   x-edgeinfer-run-ms: the backend's run time for this request, milliseconds with 3 decimals
//   x-edgeinfer-run-signature: hex(HMAC-SHA256(secret, `run-time\n${requestId}\n${runMs}`))
//
// - `requestId` is the x-request-id the edge sent with the request, so a signed time answers one
//   request and cannot be replayed onto another.
// - The `run-time` prefix keeps these signatures apart from request signatures, whose signed text
//   starts with a timestamp, so neither can stand in for the other.

import { hmacHex, timingSafeEqualHex } from './signature.ts';

export const runTimeHeaders = { runMs: 'x-edgeinfer-run-ms', signature: 'x-edgeinfer-run-signature' } as const;

const runTimeText = (requestId: string, runMs: string) => `run-time\n${requestId}\n${runMs}`;

/** The headers a backend adds to its answer to request `requestId`, run in `runMs`. */
export async function signRunTime(secret: string, requestId: string, runMs: number): Promise<Record<string, string>> {
  const value = Math.max(0, runMs).toFixed(3);
  return { [runTimeHeaders.runMs]: value, [runTimeHeaders.signature]: await hmacHex(secret, runTimeText(requestId, value)) };
}

/**
 * The run time an answer to `requestId` carries, when its signature checks out; undefined when it is
 * absent, malformed or signed with another secret (the edge then charges the work's units alone).
 */
export async function verifiedRunTime(
  secret: string,
  requestId: string,
  headers: { get(name: string): string | null },
): Promise<number | undefined> {
  const value = headers.get(runTimeHeaders.runMs);
  const signature = headers.get(runTimeHeaders.signature);
  if (value === null || signature === null || !/^\d{1,9}\.\d{3}$/.test(value)) return undefined;
  const expected = await hmacHex(secret, runTimeText(requestId, value));
  return timingSafeEqualHex(signature.trim(), expected) ? Number(value) : undefined;
}
