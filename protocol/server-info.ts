// What `GET /v2` says about a server, shared by both tiers.

import pkg from '../package.json' with { type: 'json' };
import { binaryTensorDataExtension } from './binary.ts';
import type { ServerMetadata } from './schemas.ts';

/** Open Inference Protocol extensions this codebase implements, advertised on `GET /v2`. */
export const protocolExtensions: string[] = [binaryTensorDataExtension];

export function serverMetadata(tierName: string): ServerMetadata {
  return { name: `edgeinfer-${tierName}`, version: pkg.version, extensions: protocolExtensions };
}
