// Transport failures: named classes with a stable `code`. Callers switch on
// `code`; nothing matches on message text.
import { TransportErrorCode } from '../../../shared/error-codes.js';
import { LanspreadError } from '../errors.js';

export { TransportErrorCode };

/** Base of every transport failure. */
export class TransportError extends LanspreadError {
  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An operation on a transport that has been closed. */
export class TransportClosedError extends TransportError {
  constructor() {
    super(TransportErrorCode.TransportClosed, 'transport is closed');
  }
}

/** The UDP socket could not be bound. */
export class BindFailedError extends TransportError {
  constructor(host: string, port: number, cause: unknown) {
    super(TransportErrorCode.BindFailed, `cannot bind ${host}:${port}`, { cause });
  }
}

/** A dial that failed: nobody there, handshake refused (TLS), or limits. */
export class ConnectFailedError extends TransportError {
  constructor(target: string, detail: string, options?: { cause?: unknown }) {
    super(TransportErrorCode.ConnectFailed, `cannot connect to ${target}: ${detail}`, options);
  }
}

/** A dial that got no completed handshake in time. */
export class ConnectTimeoutError extends TransportError {
  constructor(target: string, ms: number) {
    super(TransportErrorCode.ConnectTimeout, `no handshake with ${target} within ${ms} ms`);
  }
}

export type CloseReason = 'local' | 'peer' | 'idle_timeout' | 'transport_closed' | 'error';

/** The connection is gone; `reason` says why. Streams still open on it fail with this. */
export class ConnectionClosedError extends TransportError {
  constructor(
    readonly reason: CloseReason,
    detail?: string,
  ) {
    super(TransportErrorCode.ConnectionClosed, `connection closed (${reason}${detail ? `: ${detail}` : ''})`);
  }
}

/** A connection over the per-address or total limit. */
export class ConnectionLimitError extends TransportError {
  constructor(detail: string) {
    super(TransportErrorCode.ConnectionLimit, detail);
  }
}

/** The peer aborted its sending direction of this stream (RESET_STREAM). */
export class StreamResetError extends TransportError {
  constructor(readonly appCode: number) {
    super(TransportErrorCode.StreamReset, `stream reset by peer (code ${appCode})`);
  }
}

/** The peer no longer reads this stream (STOP_SENDING); writes fail with this. */
export class StreamStoppedError extends TransportError {
  constructor(readonly appCode: number) {
    super(TransportErrorCode.StreamStopped, `peer stopped reading the stream (code ${appCode})`);
  }
}

/** Any other stream-level failure reported by the QUIC stack. */
export class StreamFailedError extends TransportError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(TransportErrorCode.StreamFailed, `stream failed: ${detail}`, options);
  }
}

/** Options that cannot work (missing key, datagram size out of range, …). */
export class InvalidTransportOptionsError extends TransportError {
  constructor(detail: string) {
    super(TransportErrorCode.InvalidOptions, detail);
  }
}

/** The installed native QUIC layer cannot load, or lacks something the transport relies on. */
export class BindingMismatchError extends TransportError {
  constructor(
    readonly missing: readonly string[],
    installed: string,
    options?: { cause?: unknown },
  ) {
    super(
      TransportErrorCode.BindingMismatch,
      `@chainsafe/libp2p-quic ${installed} native layer lacks: ${missing.join(', ')} (the transport is written against 2.1.1)`,
      options,
    );
  }
}

/** A key or certificate could not be made or read. */
export class IdentityError extends TransportError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(TransportErrorCode.IdentityFailed, detail, options);
  }
}
