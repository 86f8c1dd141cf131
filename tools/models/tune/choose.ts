// Which version each tier serves, from the measurements: pure, tested directly.

import type { TunedTier } from './runtimes.ts';

export interface Measured {
  version: string;
  bytes: number;
  /** Median milliseconds per task input set, by tier. */
  medianMs: Record<TunedTier, number>;
}

/** Medians this close to the fastest are within a shared machine's noise (run to run, seen ±3-4%). */
export const noiseShare = 0.05;

/**
 * The backend serves the fastest. The edge serves the smallest among those within `noiseShare` of
 * the fastest: the edge's bytes are the Worker's size limit and its isolate's memory.
 * Only versions that may be served are passed in; the caller filters.
 */
export function chooseServing(measured: readonly Measured[]): Record<TunedTier, string> {
  if (measured.length === 0) throw new Error('no servable version to choose from');
  const fastest = (tier: TunedTier) => measured.reduce((best, m) => (m.medianMs[tier] < best.medianMs[tier] ? m : best));
  const gpu = fastest('gpu').version;
  const edgeFloor = fastest('edge').medianMs.edge;
  const withinNoise = measured.filter((m) => m.medianMs.edge <= edgeFloor * (1 + noiseShare));
  const edge = withinNoise.reduce((best, m) =>
    m.bytes < best.bytes || (m.bytes === best.bytes && m.medianMs.edge < best.medianMs.edge) ? m : best,
  ).version;
  return { edge, gpu };
}
