// The body an accepted job stores, as its route's `prepare` read and checked it: a bad request is
// refused at once (400) instead of failing as a job later.

import type { Context } from 'hono';
import { wantsBinaryOutput } from '../../protocol/binary.ts';
import { InvalidInput } from '../../protocol/errors.ts';
import type { EdgeEnv } from '../context.ts';

/** After the infer route's `prepare`: the body it read, refused when it asks for binary outputs. */
export const inferJobBody = (c: Context<EdgeEnv>): Uint8Array => {
  const { wire, decoded, body } = c.get('infer');
  // A job's result is JSON inside the job's JSON; binary outputs have no place there.
  if (decoded.outputNames.some((output) => wantsBinaryOutput(wire, output)))
    throw new InvalidInput('an asynchronous job answers JSON: ask for JSON outputs (no binary_data_output) with Prefer: respond-async');
  return body;
};

/** A task route's gate has read the body already. */
export const taskJobBody = (c: Context<EdgeEnv>): Uint8Array => c.get('task').original.body;
