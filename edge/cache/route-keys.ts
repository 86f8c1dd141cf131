// How each model-running route describes a request to the response cache (edge/cache/middleware.ts):
// its model's cache policy and the request's canonical parts. Reading never changes what the route
// itself reads: the infer body is read from a clone, the task's from what its gate already read.

import type { Context } from 'hono';
import { inferenceHeaderContentLength } from '../../protocol/binary.ts';
import { type CachePolicy, lookupModel, type Manifest } from '../../models/manifest.ts';
import type { EdgeEnv } from '../context.ts';
import type { ModelRegistry } from '../registry.ts';
import { canonicalJson, inferRequestParts, textPart } from './cache-key.ts';
import type { Cacheable } from './middleware.ts';

/** After the infer route's `prepare`: the model's policy, and the request as it was read and decoded. */
export async function inferCacheable(c: Context<EdgeEnv>): Promise<Cacheable | undefined> {
  const { resolved, wire, decoded, body, inputElements } = c.get('infer');
  const policy = resolved.manifest.cache;
  if (!policy?.deterministic) return undefined;
  const contentType = c.req.header('content-type');
  const headerLength = c.req.header(inferenceHeaderContentLength);
  const model = { name: resolved.manifest.name, version: resolved.version.version };
  return {
    model: resolved.manifest.name,
    policy,
    rawParts: [textPart(canonicalJson({ ...model, contentType, headerLength: headerLength ?? null })), body],
    canonical: () => ({ parts: inferRequestParts(model, wire, decoded), inputElements }),
  };
}

/** A task's models together: cached only when every one is deterministic, shared only when every one may be. */
function taskPolicy(manifests: Manifest[]): CachePolicy | undefined {
  const policies = manifests.map((manifest) => manifest.cache);
  if (policies.length === 0 || !policies.every((policy) => policy?.deterministic)) return undefined;
  const all = policies as CachePolicy[];
  return {
    deterministic: true,
    shared: all.every((policy) => policy.shared),
    ttlSeconds: Math.min(...all.map((policy) => policy.ttlSeconds)),
    hitUnits: all.reduce((sum, policy) => sum + policy.hitUnits, 0),
  };
}

/** After the task route's `prepare`: the task, the versions each tier would run, the media type, options and bytes. */
export function taskCacheable(registry: ModelRegistry): (c: Context<EdgeEnv>) => Promise<Cacheable | undefined> {
  return async (c) => {
    const task = c.get('task');
    const manifests = task.definition.models.map((name) => registry.manifests.get(name)!);
    const policy = taskPolicy(manifests);
    if (!policy) return undefined;
    const query = [...new URLSearchParams(task.original.search)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const header = canonicalJson({
      task: task.definition.name,
      models: manifests.map((manifest) => ({
        name: manifest.name,
        edge: registry.carried(manifest.name)?.version.version ?? null,
        gpu: lookupModel(registry.manifests, manifest.name, undefined, 'gpu').version.version,
      })),
      contentType: task.original.contentType,
      query,
    });
    // The task's own reading already checked the bytes; their canonical form is themselves.
    const parts = [textPart(header), task.original.body];
    return { model: `task:${task.definition.name}`, policy, rawParts: parts, canonical: () => ({ parts, inputElements: 0 }) };
  };
}
