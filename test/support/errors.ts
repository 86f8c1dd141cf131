import { expect } from 'vitest';
import { HttpError } from '../../protocol/errors.ts';

/** The HttpError `action` throws; fails the test if it throws anything else or nothing. */
export function thrownHttpError(action: () => unknown): HttpError {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }
  throw new Error('expected an error');
}
