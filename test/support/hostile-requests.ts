// Generated hostile infer requests for every served model version, as a caller who probes a public API
// would send them: shapes with 0, 1, huge, 2^53+2, 1e300, negative and fractional sizes, wrong ranks,
// names and datatypes, values at and past a datatype's range, NaN and ±Infinity. Many are built to pass
// decoding (the data fits the shape), so that they reach the models' graphs: what the fuzz must prove
// is that nothing a caller sends gets further than a 4xx. Shared by the property test
// (test/e2e/hostile-input.property.test.ts) and `npm run fuzz` (bench/fuzz.ts).

import { join } from 'node:path';
import fc from 'fast-check';
import { datatypes } from '../../protocol/datatypes.ts';
import { loadModelFolders } from '../../models/catalog-fs.ts';
import { type Manifest, servableVersions, type TensorSpec } from '../../models/manifest.ts';
import { repoRoot } from './edge-worker.ts';
import { tensor, textLinePattern } from './infer.ts';

export interface ModelTarget {
  manifest: Manifest;
  version: string;
  /** `/v2/models/{name}/versions/{version}/infer` */
  inferPath: string;
}

export interface HostileRequest {
  target: ModelTarget;
  body: unknown;
}

/** Every servable version of every model in models/. */
export async function modelTargets(): Promise<ModelTarget[]> {
  const folders = await loadModelFolders(join(repoRoot, 'models'));
  return folders.flatMap(({ manifest }) =>
    servableVersions(manifest).map((version) => ({
      manifest,
      version: version.version,
      inferPath: `/v2/models/${manifest.name}/versions/${encodeURIComponent(version.version)}/infer`,
    })),
  );
}

/** Sizes a caller might put in a shape: the model's own, small ones, zero, and the hostile ones. */
const hostileSize = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 2, arbitrary: fc.integer({ min: 5, max: 80 }) },
  { weight: 3, arbitrary: fc.constant(0) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      2 ** 53 + 2,
      1e300,
      2 ** 53,
      Number.MAX_SAFE_INTEGER,
      1e9,
      2 ** 31,
      65_536,
      -1,
      -5,
      -1e300,
      0.5,
      2.5,
      1e-300,
      '3',
      null,
      true,
    ),
  },
);

/** Values, in range and not: what each element of a filled tensor holds. */
const hostileValue = fc.oneof(
  fc.constantFrom<unknown>(0, 1, -1, 0.5, 3e38, -3e38, 3.4e38, 1e-45, 65504, 'NaN', 'Infinity', '-Infinity', 16000, 8000, 0),
  fc.constantFrom<unknown>(1e39, 2 ** 53, -(2 ** 31), 255, 256, -129, true, null, 'x'),
  fc.double(),
);

/** The sample rates Silero's `sr` scalar may be sent (its graph branches on 8 and 16 kHz). */
const srValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(16000, 8000) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(0, -1, 1, 44100, 2 ** 31, Number.MAX_SAFE_INTEGER, -16000, 1e300, 0.5) },
);

/** Largest tensor the fuzz fills with data: big enough to reach the graphs, small enough to send fast. */
const maxFilledElements = 100_000;

function isFillable(shape: readonly unknown[]): number | undefined {
  let elements = 1;
  for (const size of shape) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
    elements *= size;
    if (elements > maxFilledElements) return undefined;
  }
  return elements;
}

function hostileShape(spec: TensorSpec): fc.Arbitrary<unknown[]> {
  const nearDeclared = fc.tuple(
    ...spec.shape.map((size) =>
      size === -1 ? hostileSize : fc.oneof({ weight: 6, arbitrary: fc.constant(size) }, { weight: 1, arbitrary: hostileSize }),
    ),
  );
  const otherRank = fc.array(hostileSize, { maxLength: 5 });
  return fc.oneof({ weight: 9, arbitrary: nearDeclared as fc.Arbitrary<unknown[]> }, { weight: 1, arbitrary: otherRank });
}

function hostileTensor(spec: TensorSpec): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      name: fc.oneof(
        { weight: 19, arbitrary: fc.constant(spec.name) },
        { weight: 1, arbitrary: fc.constantFrom('', 'X', 'input ', 'state') },
      ),
      datatype: fc.oneof(
        { weight: 8, arbitrary: fc.constant<string>(spec.datatype) },
        { weight: 2, arbitrary: fc.constantFrom<string>(...datatypes, 'BYTES', 'FP8', 'fp32', '') },
      ),
      shape: hostileShape(spec),
      fill: fc.oneof({ weight: 3, arbitrary: fc.constant('uniform' as const) }, { weight: 1, arbitrary: fc.constant('mixed' as const) }),
      value: spec.name === 'sr' ? srValue : hostileValue,
      mixed: fc.array(hostileValue, { minLength: 1, maxLength: 16 }),
      shortBy: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
    })
    .map(({ name, datatype, shape, fill, value, mixed, shortBy }) => {
      const elements = isFillable(shape);
      const length = elements === undefined ? Math.min(3, Math.max(0, shortBy)) : Math.max(0, elements + shortBy);
      const data = fill === 'uniform' ? new Array(length).fill(value) : Array.from({ length }, (_, i) => mixed[i % mixed.length]);
      return { name, datatype, shape, data };
    });
}

/** Sizes for a dimension the model leaves open, chosen to reach the graph's own limits. */
const graphSize = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 96, 100, 127, 128, 192, 320) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 400 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 53 + 2, 1e300, -1, 0.5) },
);

/** Batch sizes: mostly small, so that the data fits; then the empty batch, the limit and past it. */
const batchSize = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(1, 1, 2, 3, 4) },
  // The empty batch often: it is the input that aborted onnxruntime-node inside Silero's graph.
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(8, 9, 64, 65, 2 ** 53 + 2, 1e300) },
);

/** Values that fit a datatype (so that decoding passes), from ordinary to extreme. */
function fittingValue(datatype: string, name: string): fc.Arbitrary<unknown> {
  if (name === 'sr') return srValue;
  if (datatype.startsWith('FP'))
    return fc.oneof(
      fc.constantFrom<unknown>(0, 1, -1, 0.5, 1e-45, 65504, -65504, 'NaN', 'Infinity', '-Infinity'),
      fc.constantFrom<unknown>(3e38, -3e38, 3.4e38),
      fc.double({ min: -10, max: 10, noNaN: true }),
    );
  if (datatype === 'BOOL') return fc.boolean();
  return fc.constantFrom<unknown>(0, 1, -1, 127, 16000, 8000);
}

/**
 * A request whose names, datatypes and data all fit the manifest, with sizes chosen to probe the graph:
 * one batch size shared by the batched inputs (so they agree), other open sizes drawn freely.
 */
function graphProbe(target: ModelTarget): fc.Arbitrary<HostileRequest> {
  const { manifest } = target;
  const input = (spec: TensorSpec) =>
    fc.record({
      sizes: fc.tuple(...spec.shape.map((size) => (size === -1 ? graphSize : fc.constant(size)))),
      value: fittingValue(spec.datatype, spec.name),
    });
  return fc.record({ batch: batchSize, inputs: fc.tuple(...manifest.inputs.map(input)) }).map(({ batch, inputs }) => ({
    target,
    body: {
      inputs: manifest.inputs.map((spec, index) => {
        const { sizes, value } = inputs[index]!;
        const shape = sizes.map((size, axis) => (axis === spec.batchDimension ? batch : size));
        const elements = isFillable(shape);
        return { name: spec.name, datatype: spec.datatype, shape, data: new Array(elements ?? 0).fill(value) };
      }),
    },
  }));
}

/** A request that breaks the protocol in any way: every input (sometimes one left out or doubled), odd outputs. */
function protocolBreaker(target: ModelTarget): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      inputs: fc.tuple(...target.manifest.inputs.map(hostileTensor)),
      drop: fc.oneof({ weight: 12, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(target.manifest.inputs.length - 1) }),
      double: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      outputs: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constant(target.manifest.outputs.map((o) => ({ name: o.name }))) },
        { weight: 1, arbitrary: fc.constant([{ name: 'nope' }]) },
      ),
    })
    .map(({ inputs, drop, double, outputs }) => {
      const sent: unknown[] = inputs.filter((_, index) => index !== drop);
      if (double && sent.length > 0) sent.push(sent[0]);
      return { target, body: { inputs: sent, ...(outputs && { outputs }) } };
    });
}

/** A hostile request to one of `targets`: half probe the graphs with fitting data, half break the protocol. */
export function hostileRequest(targets: readonly ModelTarget[]): fc.Arbitrary<HostileRequest> {
  return fc.constantFrom(...targets).chain((target) => fc.oneof(graphProbe(target), protocolBreaker(target)));
}

/** A small valid request for the model: what a poisoned session would fail to answer. */
export function normalRequest(manifest: Manifest): unknown {
  switch (manifest.name) {
    case 'silero-vad':
      return {
        inputs: [
          tensor('input', 'FP32', [1, 576], new Float32Array(576)),
          tensor('state', 'FP32', [2, 1, 128], new Float32Array(256)),
          tensor('sr', 'INT64', [], [16000]),
        ],
      };
    case 'paddleocr-rec':
      return { inputs: [tensor('x', 'FP32', [1, 3, 48, 32], textLinePattern(32))] };
    case 'paddleocr-cls':
      return { inputs: [tensor('x', 'FP32', [1, 3, 48, 192], textLinePattern(192))] };
    case 'paddleocr-det':
      return { inputs: [tensor('x', 'FP32', [1, 3, 32, 32], new Float32Array(3 * 32 * 32).fill(0.5))] };
    default:
      throw new Error(`no normal request for model '${manifest.name}': add one here`);
  }
}
