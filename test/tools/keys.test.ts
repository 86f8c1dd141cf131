import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateApiKey } from '../../protocol/api-keys.ts';
import { repoRoot, startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';
import { postJson, tensor } from '../support/infer.ts';

const run = promisify(execFile);

// Each command starts wrangler (and a local workerd) of its own: a few seconds apiece.
const cliTimeoutMs = 60_000;

let stateDir: string;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'edgeinfer-keys-'));
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

/** The audit lines every command wrote to stderr, parsed, in order. */
const auditLines: Record<string, unknown>[] = [];

async function keys(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, ['tools/keys/cli.ts', ...args, '--persist-to', stateDir], {
    cwd: repoRoot,
    env: { ...process.env, EDGEINFER_DEV_KEY: '', ...env },
  });
  for (const line of stderr.split('\n')) if (line.startsWith('{"audit":true')) auditLines.push(JSON.parse(line));
  return stdout;
}

const printedKey = (stdout: string) => /^\s+(ei_(?:live|dev)_\S+)$/m.exec(stdout)?.[1];
const printedId = (stdout: string) => /(key_[A-Za-z0-9]{16})/.exec(stdout)?.[1];

const sileroBody = {
  inputs: [
    tensor('input', 'FP32', [1, 576], new Float32Array(576)),
    tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
    tensor('sr', 'INT64', [], [16000]),
  ],
};

describe('npm run keys', () => {
  let edge: RunningWorker | undefined;
  afterAll(() => edge?.stop());

  it('creates a key, shown once, that the edge serving that local state accepts; lists it without the key; revokes it', {
    timeout: 4 * cliTimeoutMs,
  }, async () => {
    const created = await keys(['create', '--owner', 'acme', '--plan', 'free', '--models', 'silero-vad']);
    const apiKey = printedKey(created)!;
    const id = printedId(created)!;
    expect(apiKey).toMatch(/^ei_live_[A-Za-z0-9_-]{32}$/);

    const listed = await keys(['list']);
    expect(listed).toMatch(new RegExp(`${id}\\s+acme\\s+free\\s+silero-vad\\s+\\S+Z\\s+-`));
    expect(listed).not.toContain(apiKey);
    expect(listed).not.toMatch(/[0-9a-f]{64}/);

    edge = await startEdgeWorker({ persistTo: stateDir, vars: { API_KEY_CACHE_TTL_MS: '0' } });
    const infer = () =>
      edge!.fetchWithoutCredentials('/v2/models/silero-vad/infer', postJson(sileroBody, { authorization: `Bearer ${apiKey}` }));
    expect((await infer()).status).toBe(200);
    expect((await edge.fetchWithoutCredentials('/v2/models/paddleocr-cls/infer', postJson({}, { 'x-api-key': apiKey }))).status).toBe(403);

    expect(await keys(['revoke', id])).toMatch(new RegExp(`Revoked ${id} \\(acme\\)`));
    expect(await keys(['list'])).toMatch(new RegExp(`${id}\\s+acme\\s+free\\s+silero-vad\\s+\\S+Z\\s+\\d{4}-\\S+Z`));
    // The edge's own cache is off here (TTL 0); what is awaited is the write reaching its KV.
    await vi.waitFor(async () => expect((await infer()).status).toBe(401), { timeout: 5_000, interval: 100 });

    // One audit line for the creation and one for the revocation, naming the key by id and never the key.
    const mine = auditLines.filter((line) => line.keyId === id);
    expect(mine.map((line) => line.event)).toEqual(['key-created', 'key-revoked']);
    expect(mine[0]).toMatchObject({ owner: 'acme', plan: 'free', models: ['silero-vad'], namespace: 'local' });
    expect(mine[1]).toMatchObject({ owner: 'acme', namespace: 'local' });
    for (const line of mine) {
      expect(Date.parse(line.at as string)).not.toBeNaN();
      expect(JSON.stringify(line)).not.toContain(apiKey);
      expect(JSON.stringify(line)).not.toMatch(/[0-9a-f]{64}/);
    }
  });

  it('refuses bad arguments and unknown ids', { timeout: 2 * cliTimeoutMs }, async () => {
    await expect(keys(['create', '--owner', 'x', '--plan', 'gold', '--models', '*'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--plan must be one of free, pro/),
    });
    await expect(keys(['revoke', 'key_doesnotexist0000'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no key key_doesnotexist0000/),
    });
  });

  it('makes the development key once, and EDGEINFER_DEV_KEY replaces it with that exact value', { timeout: 5 * cliTimeoutMs }, async () => {
    const first = await keys(['dev-key']);
    const devKey = printedKey(first)!;
    expect(devKey).toMatch(/^ei_dev_/);
    const again = await keys(['dev-key']);
    expect(again).toContain(printedId(first)!);
    expect(printedKey(again)).toBeUndefined();

    const chosen = generateApiKey('dev');
    expect(await keys(['dev-key'], { EDGEINFER_DEV_KEY: chosen })).toMatch(/EDGEINFER_DEV_KEY \(key_\w+, just added\)/);
    expect(await keys(['dev-key'], { EDGEINFER_DEV_KEY: chosen })).not.toMatch(/just added/);
    const listed = await keys(['list']);
    const devRows = listed.split('\n').filter((row) => row.includes('local-development'));
    expect(devRows).toHaveLength(2);
    expect(devRows.filter((row) => /\s-\s/.test(row))).toHaveLength(1);

    await expect(keys(['dev-key'], { EDGEINFER_DEV_KEY: 'too-short' })).rejects.toMatchObject({
      stderr: expect.stringMatching(/EDGEINFER_DEV_KEY must look like a key/),
    });
  });
});
