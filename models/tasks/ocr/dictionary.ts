// The recogniser's character set: PaddleOCR's ppocr_keys_v1.txt, one character per line, with the
// CTC blank before it and a space after it (CTCLabelDecode with use_space_char), 6625 classes in all.

export interface Dictionary {
  /** `characters[k]` is what class k reads as; class 0 (the CTC blank) reads as ''. */
  readonly characters: readonly string[];
}

/**
 * Parses the labels file's text once per model version; `classes`, when given (the model's output
 * width), is checked, so a dictionary that does not fit the model fails at start-up, not per request.
 */
export function parseDictionary(text: string, classes?: number): Dictionary {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const characters = ['', ...lines, ' '];
  if (classes !== undefined && characters.length !== classes) {
    throw new Error(
      `the dictionary has ${lines.length} entries, giving ${characters.length} classes with the blank and the space; the model has ${classes}`,
    );
  }
  return { characters };
}
