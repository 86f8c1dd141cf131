// intraOpThreadsFor (gpu-backend/runtime.ts): a model's `maxIntraOpThreads` caps the configured
// onnxruntime threads per run, and stands in for "one per core" when none are configured.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { intraOpThreadsFor } from '../../gpu-backend/runtime.ts';
import { parseManifest } from '../../models/manifest.ts';
import { repoRoot } from '../support/edge-worker.ts';

const manifestOf = async (name: string) =>
  parseManifest(JSON.parse(await readFile(join(repoRoot, 'models', name, 'manifest.json'), 'utf8')), name);

describe('intraOpThreadsFor', () => {
  it("runs silero-vad on one thread whatever is configured (its manifest's maxIntraOpThreads)", async () => {
    const silero = await manifestOf('silero-vad');
    expect(silero.maxIntraOpThreads).toBe(1);
    expect(intraOpThreadsFor(silero, undefined)).toBe(1);
    expect(intraOpThreadsFor(silero, 0)).toBe(1);
    expect(intraOpThreadsFor(silero, 4)).toBe(1);
  });

  it('leaves a model without a cap on the configured count', async () => {
    const det = await manifestOf('paddleocr-det');
    expect(det.maxIntraOpThreads).toBeUndefined();
    expect(intraOpThreadsFor(det, undefined)).toBeUndefined();
    expect(intraOpThreadsFor(det, 3)).toBe(3);
  });

  it('keeps a configured count below the cap', async () => {
    const silero = await manifestOf('silero-vad');
    expect(intraOpThreadsFor({ ...silero, maxIntraOpThreads: 4 }, 2)).toBe(2);
  });
});
