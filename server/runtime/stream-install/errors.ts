// Failures of a streamed install (SPEC section 6), each with a stable code.
// A per-peer failure is rolled back and the next validated peer is tried; the
// game's lastError carries the code of the last attempt.
import { LanspreadError } from '../errors.js';

export const StreamInstallErrorCode = {
  /** a file's bytes do not match the CRC32 its header announced */
  CrcMismatch: 'stream_crc_mismatch',
  /** a non-empty file came with no CRC32 (an empty one is taken as 00000000) */
  CrcMissing: 'stream_crc_missing',
  /** a malformed, unexpected or inconsistent frame, or the stream ended early */
  Protocol: 'stream_protocol',
  /** no frame arrived for too long */
  Stalled: 'stream_stalled',
  /** the sender streams another version than the one validated */
  VersionMismatch: 'stream_version_mismatch',
  /** no peer agrees with the majority on every file of the game */
  NoValidatedPeer: 'no_validated_peer',
  /** the user cancelled */
  Cancelled: 'cancelled',
} as const;

/** One attempt (or the whole streamed install) failed for a reason named by `code`. */
export class StreamInstallError extends LanspreadError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
