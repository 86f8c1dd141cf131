// CTC greedy decoding (PaddleOCR CTCLabelDecode): the likeliest class per time step, repeats merged,
// blanks dropped; the confidence is the mean probability of the characters kept (the model's own picks).

import type { Dictionary } from './dictionary.ts';

export interface DecodedText {
  text: string;
  confidence: number;
}

const sureProbability = 0.501;

/** Decodes row `row` of a [batch, steps, classes] probability tensor. */
export function ctcGreedyDecode(
  probabilities: Float32Array,
  row: number,
  steps: number,
  classes: number,
  dictionary: Dictionary,
  spaceWeight = 1,
): DecodedText {
  const space = classes - 1;
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0, at = row * steps * classes; t < steps; t++, at += classes) {
    let best = 0;
    let bestP = probabilities[at]!;
    // Each step is a softmax: a class over one half (with room for rounding) is the maximum, so the
    // scan stops there. Most steps are the blank (class 0), decided without scanning at all.
    for (let k = 1; k < classes && bestP <= sureProbability; k++) {
      const p = probabilities[at + k]!;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    // A space the model found likely but less so than the blank or a letter wins when its probability,
    // times `spaceWeight`, is the larger (see OcrPipelineSettings.spaceWeight).
    let weighed = false;
    if (spaceWeight !== 1 && best !== space && probabilities[at + space]! * spaceWeight > bestP) {
      best = space;
      weighed = true;
    }
    if (best !== 0 && best !== previous) {
      text += dictionary.characters[best] ?? '';
      // A space read only by its weight says nothing of how sure the model is of the line's characters.
      if (!weighed) {
        sum += bestP;
        kept++;
      }
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}
