// Deploy settings live in infra/deploy.json (with the model manifests): wrangler.toml's environments
// are generated from it, and `npm run deploy:*` prints the plan made from it before applying it. No
// gcloud or wrangler account here: a stand-in gcloud records what the backend deploy runs.

import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeploySettings } from '../../tools/deploy/settings.ts';
import { environmentsInSync, renderEnvironments } from '../../tools/deploy/wrangler-envs.ts';
import { repoRoot } from '../support/edge-worker.ts';

const settings = await readDeploySettings(repoRoot);
const staging = settings.environments.staging!;

// Records each call (and says so on stderr, to show when it ran next to the plan).
const fakeGcloud = `#!/usr/bin/env bash
echo "gcloud $*" >> "$STATE/calls"
echo "GCLOUD $1 $2 $3" >&2
case "$1 $2 $3" in
  "projects describe "*) echo 123456789 ;;
  "run services replace") cp "$4" "$STATE/rendered.yaml" ;;
  "run services describe") echo https://edgeinfer-backend-staging-abc123-uc.a.run.app ;;
esac
`;

let state: string;
beforeAll(() => {
  state = mkdtempSync(join(tmpdir(), 'edgeinfer-deploy-'));
  writeFileSync(join(state, 'gcloud'), fakeGcloud);
  chmodSync(join(state, 'gcloud'), 0o755);
});
afterAll(() => rmSync(state, { recursive: true, force: true }));

/** Runs the deploy command; `output` is its stdout and stderr in the order they were written. */
function deploy(args: string[], env: Record<string, string> = {}) {
  const outputPath = join(state, `output-${args.join('-')}`);
  const fd = openSync(outputPath, 'w');
  const result = spawnSync(process.execPath, ['tools/deploy/cli.ts', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', fd, fd],
    env: { PATH: `${state}:${process.env.PATH}`, HOME: state, STATE: state, ...env },
  });
  closeSync(fd);
  const output = readFileSync(outputPath, 'utf8');
  return { status: result.status, stdout: output, stderr: output };
}

describe('deploy settings', () => {
  it("wrangler.toml's environments are the ones infra/deploy.json generates", () => {
    const toml = readFileSync(join(repoRoot, 'wrangler.toml'), 'utf8');
    expect(environmentsInSync(toml, settings)).toBe(true);
    expect(renderEnvironments(settings)).toContain(`BACKEND_URL = "${staging.backend.url}"`);
    expect(toml).toMatch(/\[observability\]\nenabled = true/);
    for (const name of ['staging', 'production']) expect(toml).toContain(`[env.${name}.vars]`);
  });

  it('deploy:edge prints the Worker, its vars, its KV namespace and the models each tier runs, and applies nothing with --dry-run', () => {
    const result = deploy(['edge', 'staging', '--dry-run']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(staging.edge.workerName);
    expect(result.stdout).toContain(staging.edge.apiKeysNamespaceId);
    expect(result.stdout).toMatch(new RegExp(`var BACKEND_URL\\s+${staging.backend.url}`));
    expect(result.stdout).toMatch(/models run here\s+.*silero-vad/);
    expect(result.stdout).toMatch(/models on the backend\s+.*paddleocr-det/);
    expect(result.stdout).toContain('nothing applied');
  });

  it('deploy:backend prints the GPU, memory, concurrency and instances from infra/deploy.json, then applies exactly those', () => {
    const result = deploy(['backend', 'staging'], { IMAGE: 'us-central1-docker.pkg.dev/p/edgeinfer/backend:abc' });
    expect(result.status, result.stderr).toBe(0);
    const b = staging.backend;
    const plan = result.stdout.slice(0, result.stdout.indexOf('applying:'));
    expect(plan).toMatch(new RegExp(`GPU\\s+${b.gpuCount} × ${b.gpuType}`));
    expect(plan).toMatch(new RegExp(`CPU / memory\\s+${b.cpu} / ${b.memory}`));
    expect(plan).toMatch(new RegExp(`instances\\s+${b.minInstances}\\.\\.${b.maxInstances}`));
    expect(plan).toContain(`--concurrency=${b.concurrency}`);
    expect(plan).toMatch(/models served\s+.*paddleocr-rec/);
    // The plan is printed in full before gcloud runs at all.
    expect(result.stdout.indexOf('applying:')).toBeLessThan(result.stdout.indexOf('GCLOUD'));
    expect(existsSync(join(state, 'rendered.yaml'))).toBe(true);
    const yaml = readFileSync(join(state, 'rendered.yaml'), 'utf8');
    expect(yaml).toContain(`run.googleapis.com/accelerator: ${b.gpuType}`);
    expect(yaml).toContain(`memory: ${b.memory}`);
    expect(yaml).toContain(`containerConcurrency: ${b.concurrency}`);
    expect(yaml).toContain(`autoscaling.knative.dev/minScale: "${b.minInstances}"`);
    expect(yaml).toContain(`autoscaling.knative.dev/maxScale: "${b.maxInstances}"`);
    expect(yaml).toContain(`value: ${b.gcpProject}`);
    expect(readFileSync(join(state, 'calls'), 'utf8')).toContain(`run services replace`);
  });

  it('refuses an environment the file does not have', () => {
    const result = deploy(['backend', 'qa', '--dry-run']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/staging or production/);
  });
});
