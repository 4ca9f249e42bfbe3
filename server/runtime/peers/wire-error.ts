import { LanspreadError } from '../errors.js';

/** A request refused with an error answer; `code` is one of WireErrorCode. */
export class WireError extends LanspreadError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}
