// `edgeinfer/client` as a consumer gets it: `npm run build:client` (also run by `prepare`) bundles the
// client to plain JavaScript with its declarations, which Node runs without type stripping and a
// strict TypeScript project resolves through the package's `exports`.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/edge-worker.ts';
import { type ScriptedServer, startScriptedServer } from './scripted-server.ts';

let consumer: string;
let server: ScriptedServer;

beforeAll(async () => {
  execFileSync('npm', ['run', '-s', 'build:client'], { cwd: repoRoot, stdio: 'pipe' });
  consumer = mkdtempSync(join(tmpdir(), 'edgeinfer-consumer-'));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(repoRoot, join(consumer, 'node_modules', 'edgeinfer'));
  writeFileSync(join(consumer, 'package.json'), '{"type": "module"}');
  server = await startScriptedServer();
});
afterAll(async () => {
  rmSync(consumer, { recursive: true, force: true });
  await server?.stop();
});

describe('edgeinfer/client as a package', () => {
  it('runs in Node from the built JavaScript, no type stripping involved', async () => {
    server.script([
      { status: 429, headers: { 'retry-after': '0' }, json: { error: 'slow down' } },
      { status: 200, json: { segments: [], duration_ms: 10, sample_rate: 8000, models: { 'silero-vad': '5' } } },
    ]);
    const script = `
      import { createClient, responseMeta } from 'edgeinfer/client';
      const result = await createClient({ baseUrl: ${JSON.stringify(server.url)}, apiKey: 'k' }).vad(new Uint8Array([1, 2]));
      console.log(JSON.stringify({ result, attempts: responseMeta(result).attempts }));`;
    // Asynchronously: the server answering it runs in this process.
    const { stdout } = await promisify(execFile)(process.execPath, ['--no-experimental-strip-types', '--input-type=module', '-e', script], {
      cwd: consumer,
      encoding: 'utf8',
    });
    expect(JSON.parse(stdout)).toEqual({
      result: { segments: [], duration_ms: 10, sample_rate: 8000, models: { 'silero-vad': '5' } },
      attempts: 2,
    });
  });

  it('gives a strict TypeScript consumer the types derived from the protocol schemas', () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['main.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'main.ts'),
      `import { createClient, EdgeinferError, responseMeta, type VadResponse } from 'edgeinfer/client';
      const client = createClient({ baseUrl: 'https://edge.example', apiKey: 'k' });
      const result: VadResponse = await client.vad(new Uint8Array(4), { threshold: 0.6 });
      const startMs: number = result.segments[0]!.start_ms;
      const text: string = (await client.ocrBatch([new Blob([])])).results[0]!.text;
      const tier: string | undefined = responseMeta(result)?.tier;
      // @ts-expect-error not a VAD option
      await client.vad(new Uint8Array(4), { threshold_db: 3 });
      // @ts-expect-error the usage range needs both ends
      await client.usage({ from: '2026-11-01' });
      console.log(startMs, text, tier, new EdgeinferError({ status: 429, message: 'm', attempts: 1 }).retryAfterSeconds);
      `,
    );
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    expect(() => execFileSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
  });
});
