// Failures of a streamed install (SPEC section 6), each with a stable code.
// A per-peer failure is rolled back and the next validated peer is tried; the
// game's lastError carries the code of the last attempt.
import { StreamInstallErrorCode, type ErrorCode } from '../../../shared/error-codes.js';
import { LanspreadError } from '../errors.js';

export { StreamInstallErrorCode };

/** One attempt (or the whole streamed install) failed for a reason named by `code`. */
export class StreamInstallError extends LanspreadError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The streamed install was cancelled by the user. */
export class StreamInstallCancelledError extends LanspreadError {
  constructor(id: string) {
    super(StreamInstallErrorCode.Cancelled, `streamed install of "${id}" was cancelled`);
  }
}

export const protocolError = (message: string): StreamInstallError => new StreamInstallError(StreamInstallErrorCode.Protocol, message);
