// Which version of a model each tier serves: npm-sourced versions and derived versions that passed
// their accuracy gate, the tier's `serving` choice when a request names none, and the one version
// the edge carries.

import { describe, expect, it } from 'vitest';
import { edgeCarriedVersion, lookupModel, type Manifest, parseManifest, servableVersions } from '../../models/manifest.ts';
import { NotFound } from '../../protocol/errors.ts';

const sha = (digit: string) => digit.repeat(64);
const source = { npm: 'pkg', path: 'model.onnx', license: 'MIT' };
const lineage = { mode: 'dynamic-uint8', sourceVersion: '1', sourceSha256: sha('a'), keepFloat: [], minElements: 16, toolVersion: '1' };
const evaluation = (passed: boolean) => ({
  set: 'held-out',
  sha256: sha('e'),
  figures: { minExactLineShare: passed ? 1 : 0.4 },
  passed,
  toolVersion: '1',
});

function manifest(overrides: Record<string, unknown> = {}): Manifest {
  return parseManifest(
    {
      name: 'm',
      description: 'a model',
      tier: 'gpu',
      defaultVersion: '1',
      versions: [
        { version: '1', file: 'm.onnx', sha256: sha('a'), bytes: 10, source },
        { version: '1-q', file: 'm.q.onnx', sha256: sha('b'), bytes: 5, quantization: lineage, evaluation: evaluation(true) },
        { version: '1-broken', file: 'm.b.onnx', sha256: sha('c'), bytes: 5, quantization: lineage, evaluation: evaluation(false) },
        { version: '1-new', file: 'm.n.onnx', sha256: sha('d'), bytes: 5, quantization: lineage },
      ],
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3], batchDimension: 0 }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1], batchDimension: 0 }],
      limits: { maxBatch: 4, maxElementsPerRequest: 100, maxRequestBytes: 1000 },
      units: { work: 'input_elements', workPerUnit: 1000 },
      ...overrides,
    },
    'in a test',
  );
}

describe('model versions by tier', () => {
  it('serves npm-sourced versions and derived ones that passed their gate, never one that failed or was not evaluated', () => {
    expect(servableVersions(manifest()).map((v) => v.version)).toEqual(['1', '1-q']);
    const manifests = new Map([['m', manifest()]]);
    expect(() => lookupModel(manifests, 'm', '1-broken')).toThrow(NotFound);
    expect(() => lookupModel(manifests, 'm', '1-new')).toThrow(/versions: 1, 1-q/);
  });

  it("answers each tier's chosen version when a request names none", () => {
    const manifests = new Map([['m', manifest({ serving: { edge: '1-q' } })]]);
    expect(lookupModel(manifests, 'm', undefined, 'edge').version.version).toBe('1-q');
    expect(lookupModel(manifests, 'm', undefined, 'gpu').version.version).toBe('1');
    expect(lookupModel(manifests, 'm', '1', 'edge').version.version).toBe('1');
  });

  it('refuses a manifest that chooses a version which did not pass for a tier', () => {
    expect(() => manifest({ serving: { gpu: '1-broken' } })).toThrow(/serving.gpu/);
    expect(() => manifest({ defaultVersion: '1-new' })).toThrow(/defaultVersion/);
  });

  it('has the edge carry one version: the default of a model it serves, or the edge choice of a gpu-tier model', () => {
    expect(edgeCarriedVersion(manifest())).toBeUndefined();
    expect(edgeCarriedVersion(manifest({ serving: { edge: '1-q' } }))?.version).toBe('1-q');
    expect(edgeCarriedVersion(manifest({ tier: 'edge' }))?.version).toBe('1');
  });
});
