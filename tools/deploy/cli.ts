// `npm run deploy:config`, `npm run deploy:edge -- <env>`, `npm run deploy:backend -- <env>`: the
// settings of infra/deploy.json and the model manifests, printed as a plan, then applied (wrangler for
// the edge, infra/deploy-cloudrun.sh with gcloud for the backend). `--dry-run` prints the plan only.

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { backendPlan, edgePlan, type Plan } from './plan.ts';
import { environment, readDeploySettings } from './settings.ts';
import { environmentsInSync, withEnvironments } from './wrangler-envs.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const wranglerToml = join(repoRoot, 'wrangler.toml');

async function apply(plan: Plan): Promise<number> {
  console.log(
    `\napplying: ${[...Object.entries(plan.command.env).map(([k, v]) => `${k}=${v}`), plan.command.program, ...plan.command.args].join(' ')}`,
  );
  const child = spawn(plan.command.program, plan.command.args, {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, ...plan.command.env },
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function main(args: string[]): Promise<number> {
  const [command, envName] = args.filter((arg) => !arg.startsWith('--'));
  const dryRun = args.includes('--dry-run');
  const settings = await readDeploySettings(repoRoot);
  if (command === 'config') {
    await writeFile(wranglerToml, withEnvironments(await readFile(wranglerToml, 'utf8'), settings));
    console.log('wrangler.toml: [env.*] written from infra/deploy.json');
    return 0;
  }
  if (command !== 'edge' && command !== 'backend') {
    console.error('usage: node tools/deploy/cli.ts config | edge <env> [--dry-run] | backend <env> [--dry-run]');
    return 2;
  }
  const env = environment(settings, envName);
  const manifests = (await loadModelFolders(join(repoRoot, 'models'))).map((folder) => folder.manifest);
  if (command === 'edge' && !environmentsInSync(await readFile(wranglerToml, 'utf8'), settings)) {
    console.error('wrangler.toml differs from infra/deploy.json: run `npm run deploy:config` and commit the result');
    return 1;
  }
  const plan = command === 'edge' ? edgePlan(env, manifests) : backendPlan(env, manifests);
  console.log(plan.lines.join('\n'));
  if (dryRun) {
    console.log('\n--dry-run: nothing applied');
    return 0;
  }
  return apply(plan);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 2;
}
