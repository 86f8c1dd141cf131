// A model as the Worker bundle carries it: its manifest as parsed JSON (checked with zod when the
// registry is built) and, for a model the edge runs itself, each version's weights as a Data module
// and, where the version has labels (a recogniser's dictionary), their text as a Text module.

export interface BundledModel {
  manifest: unknown;
  weights: Record<string, ArrayBuffer>;
  /** Labels text by version, for versions whose manifest names `labels`; checked against its sha256 like the weights. */
  labels?: Record<string, string>;
}
