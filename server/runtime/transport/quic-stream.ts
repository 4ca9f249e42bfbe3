// One bidirectional QUIC stream as a node Duplex, with backpressure both ways:
// - writing: bytes go into quiche only as far as the peer's flow-control
//   credit allows; the rest of a chunk waits (its callback unanswered, so
//   write() soon returns false) until the connection reports more credit;
// - reading: bytes leave quiche only while push() accepts them; once the
//   Duplex buffer is full the stream stops reading, quiche's receive window
//   stops advancing, and the sender is throttled by flow control.
// The stream leaves its connection's table as soon as both directions are
// done (FIN read and FIN sent, or reset), so the table holds only live streams.
import { Duplex } from 'node:stream';
import { APP_CODE_CANCELLED, APP_CODE_NO_ERROR } from './constants.js';
import { StreamFailedError, StreamResetError, StreamStoppedError, type TransportError } from './errors.js';
import { classifyNativeError } from './native-binding.js';
import type { TransportStream } from './transport.js';

/** What a stream needs from its connection. */
export interface StreamHost {
  /** quiche stream calls; these may throw (see classifyNativeError). */
  streamSend(id: number, data: Uint8Array, fin: boolean): number | null;
  streamShutdown(id: number, direction: 'read' | 'write', code: number): void;
  /** The connection has work to flush (packets to send, credit to use). */
  markDirty(): void;
  /** The stream waits for flow-control credit. */
  addBlocked(stream: QuicStream): void;
  /** Both directions are done: forget the stream. */
  release(stream: QuicStream): void;
}

const EMPTY = new Uint8Array(0);

function streamErrorFrom(err: unknown): TransportError {
  const c = classifyNativeError(err);
  if (c.kind === 'stopped') return new StreamStoppedError(c.appCode);
  if (c.kind === 'reset') return new StreamResetError(c.appCode);
  return new StreamFailedError(c.message, { cause: err });
}

export class QuicStream extends Duplex implements TransportStream {
  /** Set while the Duplex wants bytes; cleared when push() returns false. */
  wantRead = true;
  readDone = false;
  writeDone = false;
  private pendingChunk: Uint8Array | null = null;
  private pendingCallback: ((err?: Error | null) => void) | null = null;
  private pendingFin: ((err?: Error | null) => void) | null = null;
  private released = false;

  constructor(
    readonly id: number,
    private readonly host: StreamHost,
    highWaterMark: number,
  ) {
    super({ highWaterMark, allowHalfOpen: true, decodeStrings: true });
  }

  // ---- writing -------------------------------------------------------------

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.writeDone) {
      callback(new StreamFailedError('write after the stream was finished'));
      return;
    }
    this.pendingChunk = chunk;
    this.pendingCallback = callback;
    this.pumpWrite();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.pendingFin = callback;
    this.pumpWrite();
  }

  /** Moves pending bytes (then the FIN) into quiche; true when nothing is left waiting. */
  pumpWrite(): boolean {
    if (this.pendingChunk !== null) {
      const chunk = this.pendingChunk;
      let sent: number | null;
      try {
        sent = chunk.length === 0 ? 0 : this.host.streamSend(this.id, chunk, false);
      } catch (err) {
        this.failWrite(streamErrorFrom(err));
        return true;
      }
      if (sent !== null && sent > 0) this.host.markDirty();
      if (sent === null || sent < chunk.length) {
        if (sent !== null && sent > 0) this.pendingChunk = chunk.subarray(sent);
        this.host.addBlocked(this);
        return false;
      }
      const cb = this.pendingCallback!;
      this.pendingChunk = null;
      this.pendingCallback = null;
      cb();
      // cb() may have queued the next write synchronously (and pumped it).
      if (this.pendingChunk !== null) return false;
    }
    if (this.pendingFin !== null) {
      let r: number | null;
      try {
        r = this.host.streamSend(this.id, EMPTY, true);
      } catch (err) {
        this.failWrite(streamErrorFrom(err));
        return true;
      }
      if (r === null) {
        this.host.addBlocked(this);
        return false;
      }
      const cb = this.pendingFin;
      this.pendingFin = null;
      this.writeDone = true;
      this.host.markDirty();
      cb();
      this.maybeRelease();
    }
    return true;
  }

  private failWrite(err: TransportError): void {
    const cb = this.pendingCallback ?? this.pendingFin;
    this.pendingChunk = null;
    this.pendingCallback = null;
    this.pendingFin = null;
    this.writeDone = true;
    if (cb) cb(err);
    else this.fail(err);
  }

  // ---- reading -------------------------------------------------------------

  override _read(): void {
    if (!this.wantRead) {
      this.wantRead = true;
      // quiche may hold bytes we stopped taking; nothing else would wake us.
      this.host.markDirty();
    }
  }

  /** Delivers bytes read from quiche; returns whether more are wanted. */
  deliver(chunk: Buffer): boolean {
    if (!this.push(chunk)) this.wantRead = false;
    return this.wantRead;
  }

  deliverEnd(): void {
    this.readDone = true;
    this.push(null);
    this.maybeRelease();
  }

  /** The peer reset its direction: reading fails with stream_reset. */
  deliverReset(appCode: number): void {
    this.readDone = true;
    this.fail(new StreamResetError(appCode));
  }

  // ---- teardown ------------------------------------------------------------

  /**
   * Destroys the stream with `err`, but only hands the error to the stream if
   * someone listens for it; an unhandled 'error' would crash the process, and
   * the peer must never be able to do that.
   */
  fail(err: Error): void {
    if (this.destroyed) return;
    this.destroy(this.listenerCount('error') > 0 ? err : undefined);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const code = err ? APP_CODE_CANCELLED : APP_CODE_NO_ERROR;
    if (!this.readDone) {
      this.readDone = true;
      this.host.streamShutdown(this.id, 'read', code);
    }
    if (!this.writeDone) {
      this.writeDone = true;
      this.host.streamShutdown(this.id, 'write', code);
    }
    this.pendingChunk = null;
    this.pendingCallback = null;
    this.pendingFin = null;
    this.host.markDirty();
    this.maybeRelease();
    callback(err);
  }

  /** The connection went away: both directions end now, no frames are sent. */
  abandon(err: Error): void {
    this.readDone = true;
    this.writeDone = true;
    this.maybeRelease();
    this.fail(err);
  }

  private maybeRelease(): void {
    if (!this.released && this.readDone && this.writeDone) {
      this.released = true;
      this.host.release(this);
    }
  }
}
