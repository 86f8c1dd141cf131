// A model as the Worker bundle carries it: its manifest as parsed JSON (checked with zod when the
// registry is built) and, for a model the edge runs itself, each version's weights as a Data module.

export interface BundledModel {
  manifest: unknown;
  weights: Record<string, ArrayBuffer>;
}
