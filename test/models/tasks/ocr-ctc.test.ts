// CTC greedy decoding: repeats merged, blanks dropped, mean confidence of the characters kept; the
// early stop on a class over one half gives the argmax of any softmax row.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ctcGreedyDecode } from '../../../models/tasks/ocr/ctc.ts';
import { parseDictionary } from '../../../models/tasks/ocr/index.ts';

const dictionary = parseDictionary('a\nb\nc');
const classes = dictionary.characters.length; // blank, a, b, c, space

function oneHot(steps: number[], p = 0.9): Float32Array {
  const out = new Float32Array(steps.length * classes).fill((1 - p) / (classes - 1));
  steps.forEach((k, t) => (out[t * classes + k] = p));
  return out;
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function naiveDecode(probabilities: Float32Array, steps: number): string {
  let text = '';
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = Array.from(probabilities.subarray(t * classes, (t + 1) * classes));
    const best = row.indexOf(Math.max(...row));
    if (best !== 0 && best !== previous) text += dictionary.characters[best];
    previous = best;
  }
  return text;
}

describe('ctcGreedyDecode', () => {
  it('merges repeats, drops blanks and keeps a letter repeated across a blank', () => {
    const decoded = ctcGreedyDecode(oneHot([0, 1, 1, 0, 2, 0, 2, 4, 3, 3]), 0, 10, classes, dictionary);
    expect(decoded.text).toBe('abb c');
    expect(decoded.confidence).toBeCloseTo(0.9, 5);
  });

  it('reads nothing, with confidence 0, from blanks only', () => {
    expect(ctcGreedyDecode(oneHot([0, 0, 0]), 0, 3, classes, dictionary)).toEqual({ text: '', confidence: 0 });
  });

  it('reads the row asked for in a batch', () => {
    const batch = new Float32Array([...oneHot([1, 0, 2]), ...oneHot([3, 3, 0])]);
    expect(ctcGreedyDecode(batch, 1, 3, classes, dictionary).text).toBe('c');
  });

  it('reads a space the model weighs under the blank when its weighted probability is the larger', () => {
    // Step 2: blank 0.6, space 0.3; a space weighted by 3 (0.9) wins, by 1.5 (0.45) does not.
    const probabilities = oneHot([1, 0, 2]);
    probabilities.set([0.6, 0.05, 0.025, 0.025, 0.3], 1 * classes);
    expect(ctcGreedyDecode(probabilities, 0, 3, classes, dictionary).text).toBe('ab');
    expect(ctcGreedyDecode(probabilities, 0, 3, classes, dictionary, 1.5).text).toBe('ab');
    const weighted = ctcGreedyDecode(probabilities, 0, 3, classes, dictionary, 3);
    expect(weighted.text).toBe('a b');
    // The confidence is the model's own, over the letters it picked: a space read by its weight is left out.
    expect(weighted.confidence).toBeCloseTo(0.9, 5);
  });

  it('agrees with a full argmax on any softmax output', () => {
    const logits = fc.array(fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: classes, maxLength: classes }), {
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(logits, (rows) => {
        const probabilities = new Float32Array(rows.flatMap(softmax));
        expect(ctcGreedyDecode(probabilities, 0, rows.length, classes, dictionary).text).toBe(naiveDecode(probabilities, rows.length));
      }),
      { numRuns: 500 },
    );
  });
});
