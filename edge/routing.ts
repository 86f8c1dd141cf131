// Where a request for a model runs: the manifest's tier decides, and for tier `auto` the request's
// size against the model's edge threshold. Pure, so the rule is tested directly.

import type { Manifest } from '../models/manifest.ts';

export type Placement = 'edge' | 'backend';

export function placeRequest(manifest: Manifest, inputElements: number): Placement {
  switch (manifest.tier) {
    case 'edge':
      return 'edge';
    case 'gpu':
      return 'backend';
    case 'auto':
      return inputElements < manifest.routing!.edgeThresholdElements! ? 'edge' : 'backend';
  }
}
