// onnxruntime (web and node alike) fails a run whose shapes pass the manifest but not the graph's own
// constraints (e.g. silero-vad's reflect padding needs more than 64 samples). That is the caller's
// input, not our fault: both tiers answer it as a 400 naming the graph's reason.

import { InvalidInput } from '../protocol/errors.ts';
import type { Manifest } from './manifest.ts';

export function inputRejectedByModel(manifest: Manifest, err: unknown): InvalidInput {
  const message = err instanceof Error ? err.message : String(err);
  // ORT nests "Status Message:" once per subgraph level; the innermost one says what went wrong.
  const reason = message.split('Status Message:').pop()!.trim().split('\n', 1)[0]!;
  return new InvalidInput(`model '${manifest.name}' cannot run on this input: ${reason.slice(0, 300)}`);
}
