// The body an accepted job stores, read and checked as its route would: an infer request is decoded
// against its model now, so a bad one is refused at once (400) instead of failing as a job later.

import type { Context } from 'hono';
import { inferenceHeaderContentLength, inferRequestMediaTypes, wantsBinaryOutput } from '../../protocol/binary.ts';
import { readBodyWithLimit, requireMediaType } from '../../protocol/body.ts';
import { InvalidInput } from '../../protocol/errors.ts';
import { readInferRequest } from '../../models/infer-request.ts';
import type { EdgeEnv } from '../context.ts';
import type { ModelRegistry } from '../registry.ts';

export function inferJobBody(registry: ModelRegistry): (c: Context<EdgeEnv>) => Promise<Uint8Array> {
  return async (c) => {
    const { name, version } = c.req.param() as { name: string; version?: string };
    const resolved = registry.resolve(name, version);
    requireMediaType(c.req.header('content-type'), inferRequestMediaTypes);
    const body = await readBodyWithLimit(c.req.raw, resolved.manifest.limits.maxRequestBytes);
    const { wire, decoded } = readInferRequest(body, c.req.header(inferenceHeaderContentLength), resolved.manifest);
    // A job's result is JSON inside the job's JSON; binary outputs have no place there.
    if (decoded.outputNames.some((output) => wantsBinaryOutput(wire, output)))
      throw new InvalidInput('an asynchronous job answers JSON: ask for JSON outputs (no binary_data_output) with Prefer: respond-async');
    return body;
  };
}

/** A task route's gate has read the body already. */
export const taskJobBody = (c: Context<EdgeEnv>): Uint8Array => c.get('task').original.body;
