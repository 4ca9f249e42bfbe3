// Two in-process Duplex ends joined like one QUIC stream: what one writes the
// other reads, after an optional latency, with the same backpressure contract
// (a write is acknowledged only once the other end's buffer takes it, so a
// reader that stops reading stops the writer) and the same teardown:
// end() is a FIN; destroy() resets our sending direction (the peer's reads
// fail with stream_reset) and stops our receiving one (the peer's writes fail
// with stream_stopped).
import { Duplex } from 'node:stream';
import { APP_CODE_CANCELLED, APP_CODE_NO_ERROR } from './constants.js';
import { StreamResetError, StreamStoppedError } from './errors.js';
import type { TransportStream } from './transport.js';

export type Deliver = (fn: () => void) => void;

type WriteCallback = (err?: Error | null) => void;

export class MemoryStream extends Duplex implements TransportStream {
  peer!: MemoryStream;
  /** The peer's write that waits until our buffer has room. */
  private waitingWrite: WriteCallback | null = null;
  /** The peer stopped reading (STOP_SENDING): our writes fail. */
  private stoppedCode: number | null = null;
  private finSent = false;
  private finReceived = false;
  /** Our node vanished: the peer's bytes go unanswered, as with a dead host. */
  private vanished = false;
  /** Called once when the stream closes, whatever the reason. */
  onDone: (() => void) | null = null;

  constructor(
    readonly id: number,
    private readonly deliver: Deliver,
    highWaterMark: number,
  ) {
    super({ highWaterMark, allowHalfOpen: true });
    this.once('close', () => this.onDone?.());
  }

  static pair(id: number, deliver: Deliver, highWaterMark: number): [MemoryStream, MemoryStream] {
    const a = new MemoryStream(id, deliver, highWaterMark);
    const b = new MemoryStream(id, deliver, highWaterMark);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: WriteCallback): void {
    if (this.stoppedCode !== null) {
      callback(new StreamStoppedError(this.stoppedCode));
      return;
    }
    // A copy: the writer may reuse its buffer once the callback has run.
    const copy = Buffer.from(chunk);
    this.deliver(() => {
      const peer = this.peer;
      if (peer.vanished) return;
      if (this.stoppedCode !== null || peer.destroyed) {
        callback(new StreamStoppedError(this.stoppedCode ?? APP_CODE_CANCELLED));
        return;
      }
      if (peer.push(copy)) callback();
      else peer.waitingWrite = callback;
    });
  }

  override _final(callback: WriteCallback): void {
    this.finSent = true;
    this.deliver(() => {
      const peer = this.peer;
      if (peer.vanished) return;
      if (!peer.destroyed) {
        peer.finReceived = true;
        peer.push(null);
      }
      callback();
    });
  }

  override _read(): void {
    const w = this.waitingWrite;
    if (w) {
      this.waitingWrite = null;
      w();
    }
  }

  override _destroy(err: Error | null, callback: WriteCallback): void {
    const code = err ? APP_CODE_CANCELLED : APP_CODE_NO_ERROR;
    const resetPeerReads = !this.finSent;
    const stopPeerWrites = !this.finReceived;
    const waiting = this.waitingWrite;
    this.waitingWrite = null;
    this.deliver(() => {
      const peer = this.peer;
      if (waiting) waiting(new StreamStoppedError(code));
      if (peer.destroyed) return;
      if (stopPeerWrites) peer.stoppedCode = code;
      if (resetPeerReads && !peer.finReceived) peer.failWith(new StreamResetError(code));
    });
    callback(err);
  }

  /**
   * The connection is gone: fail without telling the peer (its own connection
   * tells it). `vanished`: our node disappeared, so the peer's writes hang.
   */
  abandon(err: Error, vanished = false): void {
    this.vanished = vanished;
    this.finSent = true;
    this.finReceived = true;
    this.failWith(err);
  }

  /** Destroys with `err` only if someone listens, so a peer can never crash us with an unhandled 'error'. */
  failWith(err: Error): void {
    if (this.destroyed) return;
    this.destroy(this.listenerCount('error') > 0 ? err : undefined);
  }
}
