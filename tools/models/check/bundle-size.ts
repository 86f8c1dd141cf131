// The edge Worker's bundle as `wrangler deploy` would upload it, built with `--dry-run --outdir`, and
// each module's size raw and gzip-compressed (the figures Workers' size limits are stated in).

import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

export interface BundleModule {
  /** The module's file name, without the content hash wrangler prefixes to it. */
  file: string;
  rawBytes: number;
  gzipBytes: number;
}

export interface BundleSize {
  modules: BundleModule[];
  rawBytes: number;
  gzipBytes: number;
}

export interface BuiltBundle {
  /** The folder wrangler wrote the upload into; gone after `remove`. */
  outdir: string;
  remove(): Promise<void>;
}

/** Runs `wrangler deploy --dry-run --outdir` in `repoRoot`: the exact modules a deploy uploads. */
export async function buildBundle(repoRoot: string): Promise<BuiltBundle> {
  const outdir = await mkdtemp(join(tmpdir(), 'edgeinfer-bundle-'));
  const remove = () => rm(outdir, { recursive: true, force: true });
  try {
    // wrangler's own shebang would pick the system Node; run it on this one (Node 24 from the project).
    await promisify(execFile)(
      process.execPath,
      [join(repoRoot, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir],
      {
        cwd: repoRoot,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (err) {
    await remove();
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(`wrangler deploy --dry-run failed: ${(stderr || stdout || (err as Error).message).trim().slice(-2000)}`);
  }
  return { outdir, remove };
}

/** The uploaded modules in `outdir` (source maps and wrangler's README are not part of the script). */
export async function bundleSize(outdir: string): Promise<BundleSize> {
  const files = (await readdir(outdir)).filter((f) => !f.endsWith('.map') && f !== 'README.md').sort();
  const modules: BundleModule[] = [];
  for (const file of files) {
    const bytes = await readFile(join(outdir, file));
    modules.push({ file: file.replace(/^[0-9a-f]{40}-/, ''), rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });
  }
  modules.sort((a, b) => b.rawBytes - a.rawBytes);
  return {
    modules,
    rawBytes: modules.reduce((sum, m) => sum + m.rawBytes, 0),
    gzipBytes: modules.reduce((sum, m) => sum + m.gzipBytes, 0),
  };
}

/** Builds the bundle, measures it, and removes it. */
export async function measureBundle(repoRoot: string): Promise<BundleSize> {
  const built = await buildBundle(repoRoot);
  try {
    return await bundleSize(built.outdir);
  } finally {
    await built.remove();
  }
}
