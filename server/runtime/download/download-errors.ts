// The ways a download fails: as a whole (a stable code for lastError), or one
// chunk at a time (retried elsewhere by the scheduler).
import type { ErrorCode } from '../../../shared/error-codes.js';
import { LanspreadError } from '../errors.js';

/** The download could not finish: every source is gone, or a chunk failed too often. */
export class DownloadFailedError extends LanspreadError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

/** A chunk whose bytes do not match its hash: its peer is not used again for this download. */
export class CorruptChunkError extends Error {
  constructor(readonly peerId: string) {
    super(`chunk from ${peerId} does not match its hash`);
  }
}
