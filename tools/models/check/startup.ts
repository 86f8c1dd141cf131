// What the Worker's start-up costs before its first request: V8 parsing the bundled script and
// compiling its WebAssembly modules. Measured in a fresh Node process (the same V8 as workerd), so
// nothing this process has loaded is reused. The global scope's own execution is not run: it imports
// workerd's Data modules, and the edge defers all model work (sessions) to the first request.

import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface StartupCost {
  /** Parsing the main script as a module (vm.SourceTextModule). */
  parseMs: number;
  /** WebAssembly.compile of every .wasm module in the bundle. */
  wasmCompileMs: number;
  totalMs: number;
}

const probe = `
const { readFileSync } = require('node:fs');
const { SourceTextModule } = require('node:vm');
const [main, ...wasm] = JSON.parse(process.argv[1]);
(async () => {
  const code = readFileSync(main, 'utf8');
  let started = performance.now();
  new SourceTextModule(code, { identifier: main });
  const parseMs = performance.now() - started;
  started = performance.now();
  for (const path of wasm) await WebAssembly.compile(readFileSync(path));
  const wasmCompileMs = performance.now() - started;
  console.log(JSON.stringify({ parseMs, wasmCompileMs }));
})();
`;

/** Measures the start-up of the bundle in `outdir`, whose main module is `mainModule` (wrangler writes `index.js`). */
export async function measureStartup(outdir: string, mainModule = 'index.js'): Promise<StartupCost> {
  const wasm = (await readdir(outdir)).filter((f) => f.endsWith('.wasm')).map((f) => join(outdir, f));
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--experimental-vm-modules',
    '--no-warnings',
    '-e',
    probe,
    JSON.stringify([join(outdir, mainModule), ...wasm]),
  ]);
  const { parseMs, wasmCompileMs } = JSON.parse(stdout) as { parseMs: number; wasmCompileMs: number };
  return { parseMs, wasmCompileMs, totalMs: parseMs + wasmCompileMs };
}
