// How each model-running route describes a request to the response cache (edge/cache/middleware.ts):
// its model's cache policy and the bytes as sent (once read), then the request's canonical parts (once
// parsed). Both come from what the route's gate already read; the cache reads nothing itself.

import type { Context } from 'hono';
import { inferenceHeaderContentLength } from '../../protocol/binary.ts';
import { type CachePolicy, lookupModel, type Manifest } from '../../models/manifest.ts';
import type { EdgeEnv } from '../context.ts';
import type { ModelRegistry } from '../registry.ts';
import { canonicalJson, inferRequestParts, textPart } from './cache-key.ts';
import type { CacheableBytes, CanonicalRequest } from './cacheable.ts';

/** After the infer route's `read`: the model's policy, and the bytes as sent with what frames them. */
export function inferBytes(c: Context<EdgeEnv>): CacheableBytes | undefined {
  const { resolved, body } = c.get('inferRead');
  const policy = resolved.manifest.cache;
  if (!policy?.deterministic) return undefined;
  const contentType = c.req.header('content-type');
  const headerLength = c.req.header(inferenceHeaderContentLength);
  const frame = { name: resolved.manifest.name, version: resolved.version.version, contentType, headerLength: headerLength ?? null };
  return { model: resolved.manifest.name, policy, rawParts: [textPart(canonicalJson(frame)), body] };
}

/** After the infer route's `prepare`: the request as it was decoded. */
export function inferCanonical(c: Context<EdgeEnv>): ReturnType<CanonicalRequest<Context<EdgeEnv>>> {
  const { resolved, wire, decoded, inputElements } = c.get('infer');
  const model = { name: resolved.manifest.name, version: resolved.version.version };
  return { parts: inferRequestParts(model, wire, decoded), inputElements };
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

/** After the task route's `read`: the task, the versions each tier would run, the media type, options and bytes. */
export function taskBytes(registry: ModelRegistry): (c: Context<EdgeEnv>) => CacheableBytes | undefined {
  return (c) => {
    const { definition, original } = c.get('taskRead');
    const manifests = definition.models.map((name) => registry.manifests.get(name)!);
    const policy = taskPolicy(manifests);
    if (!policy) return undefined;
    const query = [...new URLSearchParams(original.search)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const header = canonicalJson({
      task: definition.name,
      models: manifests.map((manifest) => ({
        name: manifest.name,
        edge: registry.carried(manifest.name)?.version.version ?? null,
        gpu: lookupModel(registry.manifests, manifest.name, undefined, 'gpu').version.version,
      })),
      contentType: original.contentType,
      query,
    });
    return { model: `task:${definition.name}`, policy, rawParts: [textPart(header), original.body] };
  };
}

/** The task's own reading checked the bytes; their canonical form is themselves. */
export function taskCanonical(registry: ModelRegistry): CanonicalRequest<Context<EdgeEnv>> {
  const bytesOf = taskBytes(registry);
  return (c) => ({ parts: bytesOf(c)?.rawParts ?? [], inputElements: 0 });
}
