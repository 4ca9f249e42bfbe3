// Failures carry a stable `code` (shared/error-codes.ts); the HTTP layer maps
// codes to statuses and nothing anywhere matches on message text.
import { ErrorCode, isErrorCode } from '../../shared/error-codes.js';
import type { ErrorInfo } from '../../shared/api.js';

export class LanspreadError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    // the subclass's own name, for logs and stack traces
    this.name = new.target.name;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** A game id that is not in the catalog. */
export class UnknownGameError extends LanspreadError {
  constructor(id: string) {
    super(ErrorCode.UnknownGame, `no game with id "${id}" in the catalog`);
  }
}

/** A request to start work on a game that already has an operation in flight. */
export class OperationActiveError extends LanspreadError {
  constructor(id: string, kind: string) {
    super(ErrorCode.OperationActive, `game "${id}" already has an active ${kind} operation`);
  }
}

/** A settings value that cannot be applied. */
export class InvalidSettingsError extends LanspreadError {
  constructor(message: string) {
    super(ErrorCode.InvalidSettings, message);
  }
}

/** The node is shutting down: work in flight stops (a download resumes after the restart). */
export class ShutdownError extends LanspreadError {
  constructor() {
    super(ErrorCode.ShuttingDown, 'the node is shutting down');
  }
}

/** Reduce anything thrown to `{code, message}` for events and `lastError`; a code outside the registry (an errno) becomes `internal`. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof LanspreadError) return err.toInfo();
  const message = err instanceof Error ? err.message : String(err);
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return { code: isErrorCode(code) ? code : ErrorCode.Internal, message };
}
