import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

describe('smoke', () => {
  it('answers server metadata', async () => {
    const res = await edge.fetch('/v2');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'edgeinfer-edge' });
  });
});
