// wrangler.toml's [env.*] sections, written from infra/deploy.json between two marker lines, so the
// Worker's deployed vars and bindings have one source; a check says when the file has drifted from it.

import { type DeploySettings, edgeVars } from './settings.ts';

const begin = '# --- generated from infra/deploy.json ---';
const end = '# --- end of generated ---';

const quote = (value: string) => JSON.stringify(value);

export function renderEnvironments(settings: DeploySettings): string {
  return Object.entries(settings.environments)
    .map(([name, env]) =>
      [
        `[env.${name}]`,
        `name = ${quote(env.edge.workerName)}`,
        '',
        `[env.${name}.vars]`,
        ...Object.entries(edgeVars(env)).map(([key, value]) => `${key} = ${quote(value)}`),
        '',
        `[[env.${name}.kv_namespaces]]`,
        'binding = "API_KEYS"',
        `id = ${quote(env.edge.apiKeysNamespaceId)}`,
        '',
      ].join('\n'),
    )
    .join('\n');
}

function generatedRange(toml: string): { start: number; stop: number } {
  const start = toml.indexOf(begin);
  const stop = toml.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`wrangler.toml has no "${begin}" … "${end}" section`);
  return { start: start + begin.length + 1, stop };
}

/** wrangler.toml with its generated section replaced by what infra/deploy.json says. */
export function withEnvironments(toml: string, settings: DeploySettings): string {
  const { start, stop } = generatedRange(toml);
  return `${toml.slice(0, start)}${renderEnvironments(settings)}${toml.slice(stop)}`;
}

export function environmentsInSync(toml: string, settings: DeploySettings): boolean {
  return withEnvironments(toml, settings) === toml;
}
