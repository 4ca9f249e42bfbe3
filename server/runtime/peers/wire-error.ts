import { ErrorCode, isErrorCode } from '../../../shared/error-codes.js';
import { LanspreadError } from '../errors.js';

/** A request refused with an error answer; `code` is usually one of WireErrorCode. */
export class WireError extends LanspreadError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }

  /** An error a peer sent: a code this node does not know becomes `peer_error` (the message keeps it). */
  static fromPeer(code: string, message: string): WireError {
    return isErrorCode(code)
      ? new WireError(code, message)
      : new WireError(ErrorCode.PeerError, `${message} (peer code ${code.slice(0, 40)})`);
  }
}
