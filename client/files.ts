// Turns what a caller holds (bytes, a buffer, a Blob or File) into a request body, with web APIs only
// so the client runs in browsers, Workers and Node alike.

import { imageContentTypes } from '../protocol/tasks.ts';

/** A file as the client takes it: raw bytes, or a Blob (a browser File is one). */
export type FileInput = Uint8Array | ArrayBuffer | Blob;

export async function fileBytes(file: FileInput): Promise<Uint8Array> {
  if (file instanceof Uint8Array) return file;
  if (file instanceof ArrayBuffer) return new Uint8Array(file);
  return new Uint8Array(await file.arrayBuffer());
}

/** A body fetch accepts and can send again on a retry (a Blob is read anew each time). */
export function rawBody(file: FileInput): BodyInit {
  return file instanceof Uint8Array ? (file as Uint8Array<ArrayBuffer>) : file;
}

export async function base64(file: FileInput): Promise<string> {
  const bytes = await fileBytes(file);
  // btoa takes a binary string; build it in chunks, as one spread call overflows the stack past ~100 KB.
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  return btoa(binary);
}

/** PNG or JPEG by the file's magic bytes, else the Blob's own type; the server refuses anything else with 415. */
export async function imageContentType(file: FileInput): Promise<string> {
  const head = await fileBytes(file instanceof Blob ? file.slice(0, 8) : file);
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  const declared = file instanceof Blob ? file.type : '';
  return (imageContentTypes as readonly string[]).includes(declared) ? declared : 'application/octet-stream';
}
