// Metering as `npm start` runs it: no Upstash, nothing installed beside the edge. Events go through
// the local metering queue into the USAGE_DB D1 database in wrangler's local state; `/v1/usage` reads
// it, budgets are checked against it, and `npm run usage -- export` reads the same rows with wrangler.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedApiKey } from '../support/api-keys.ts';
import { repoRoot, type RunningWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { postJson } from '../support/infer.ts';
import { settledUsage, today, vadFrames } from '../support/metering.ts';

const run = promisify(execFile);
let stateDir: string;
let edge: RunningWorker;
const freeBudgetUnits = 5;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'edgeinfer-metering-'));
  edge = await startEdgeWorker({
    persistTo: stateDir,
    vars: { USAGE_BUDGETS: JSON.stringify({ 'plan:free': { units: freeBudgetUnits } }), BUDGET_REFRESH_MS: '0' },
  });
});
afterAll(async () => {
  await edge?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

// no-store: each request runs the model and is charged its units (a cache hit would cost none).
const infer = (apiKey: string, batch: number) =>
  edge.fetch(
    '/v2/models/silero-vad/infer',
    postJson({ inputs: vadFrames(batch) }, { authorization: `Bearer ${apiKey}`, 'cache-control': 'no-store' }),
  );

describe('metering without Upstash (npm start)', () => {
  it('meters every request into the local D1 store and answers /v1/usage with units and cost', async () => {
    const responses = await Promise.all([1, 8, 1].map((batch) => infer(edge.key.apiKey, batch)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const units = responses.map((r) => Number(r.headers.get('x-edgeinfer-units')));
    expect(units[1]).toBeGreaterThan(units[0]!);
    const usage = await settledUsage(edge, edge.key.apiKey, 3);
    const total = units.reduce((a, b) => a + b, 0);
    // The pro plan's default price: 0.0001 USD per unit.
    expect(usage.total).toMatchObject({ requests: 3, units: total, models: { 'silero-vad': { requests: 3, units: total } } });
    expect(usage.total.cost).toBeCloseTo(total * 0.0001, 12);
    expect(usage.currency).toBe('USD');
    expect(edge.logs.some((line) => /usage is not recorded/.test(line))).toBe(false);
  });

  it("refuses further work with 402 naming the budget once a key's monthly budget is spent", async () => {
    const free = await seedApiKey(edge.apiKeys, { owner: 'on-a-budget', plan: 'free' });
    const statuses: number[] = [];
    let refusal: Response | undefined;
    // Two units a request: 0, 2 and 4 units spent are under 5; at 6 the budget is spent.
    for (let i = 0; i < 5 && !refusal; i++) {
      const res = await infer(free.apiKey, 2);
      statuses.push(res.status);
      if (res.status === 200) await res.arrayBuffer();
      else refusal = res;
    }
    expect(statuses).toEqual([200, 200, 200, 402]);
    const { error } = (await refusal!.json()) as { error: string };
    expect(error).toMatch(new RegExp(`^the monthly budget of ${freeBudgetUnits} units for ${free.record.id} is spent \\(6 units`));
    expect(error).toMatch(/it renews on \d{4}-\d{2}-01$/);
    // The refused request ran nothing and is not metered; other keys are not affected.
    expect((await settledUsage(edge, free.apiKey, 3)).total).toMatchObject({ requests: 3, units: 6 });
    expect((await infer(edge.key.apiKey, 1)).status).toBe(200);
  });

  it('exports per key, day and model what /v1/usage reports, totals equal', async () => {
    const second = await seedApiKey(edge.apiKeys, { owner: 'exported' });
    await Promise.all([1, 3].map(async (batch) => (await infer(second.apiKey, batch)).arrayBuffer()));
    const keys = [edge.key, second];
    const reported = await Promise.all(keys.map(async (key) => (await settledUsage(edge, key.apiKey, key === second ? 2 : 4)).total));

    const { stdout } = await run(
      process.execPath,
      ['tools/usage/cli.ts', 'export', '--from', today(), '--to', today(), '--format', 'json', '--persist-to', stateDir],
      { cwd: repoRoot },
    );
    const exported = JSON.parse(stdout) as {
      currency: string;
      lines: { keyId: string; date: string; model: string; requests: number; units: number; cost: number }[];
    };
    expect(exported.currency).toBe('USD');
    keys.forEach((key, index) => {
      const lines = exported.lines.filter((line) => line.keyId === key.record.id);
      expect(lines.map((line) => [line.date, line.model])).toEqual([[today(), 'silero-vad']]);
      expect(lines[0]).toMatchObject({ requests: reported[index]!.requests, units: reported[index]!.units });
      expect(lines[0]!.cost).toBeCloseTo(reported[index]!.cost, 12);
    });

    const csv = await run(
      process.execPath,
      ['tools/usage/cli.ts', 'export', '--from', today(), '--to', today(), '--persist-to', stateDir],
      { cwd: repoRoot },
    );
    const [header, ...rows] = csv.stdout.trim().split('\n');
    expect(header).toBe('key_id,date,model,requests,units,cost,currency');
    expect(rows).toContain(
      [second.record.id, today(), 'silero-vad', reported[1]!.requests, reported[1]!.units, reported[1]!.cost, 'USD'].join(','),
    );
  });
});
