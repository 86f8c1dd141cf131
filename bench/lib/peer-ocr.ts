// The peer OCR library, @gutenye/ocr-node (PaddleOCR v4 det and rec, the same weights, no direction
// classifier), run in this process as its README shows: `Ocr.create()` with its defaults (onnxruntime-node's
// default threads, as the backend's sessions have unless INTRA_OP_THREADS is set), `detect(path)` per image.

import Ocr from '@gutenye/ocr-node';

export interface PeerOcr {
  /** The lines the peer reads from the image file at `path`, in its order. */
  read(path: string): Promise<string[]>;
}

export async function createPeerOcr(): Promise<PeerOcr> {
  const ocr = await Ocr.create();
  return {
    read: async (path) => ((await ocr.detect(path)) as { text: string }[]).map((line) => line.text),
  };
}
