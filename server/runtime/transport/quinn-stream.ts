// One bidirectional QUIC stream as a node Duplex over quinn's native stream.
//
// Invariants:
// - at most one native read and one native write are in flight; a read is
//   asked for only while the Duplex wants data, so a reader that does not
//   consume stops the reads, quinn's window fills and the peer's writes wait
//   (backpressure end to end);
// - small writes are gathered into one native call, large ones go as they are
//   (each call crosses into Rust);
// - the stream reports itself gone to its connection exactly once, when both
//   directions are done (ended and finished) or it is destroyed.
import { Duplex } from 'node:stream';
import { FIRST_READ_BYTES, READ_BYTES, WRITE_GATHER_BYTES } from './constants.js';
import type { ConnectionClosedError } from './errors.js';
import { classifyNative, type NativeStream } from './quinn-native.js';
import type { TransportStream } from './transport.js';

/** What a stream needs from its connection. */
export interface StreamOwner {
  /** The connection's close error once it is closed, else null. */
  closeError(): ConnectionClosedError | null;
  /** The stream is done in both directions (or destroyed). */
  streamGone(stream: QuinnStream): void;
}

/** A piece under an eighth of its read's size is copied out, so the read buffer's full size is not kept alive by it. */
const COMPACT_SHARE = 8;

export class QuinnStream extends Duplex implements TransportStream {
  readonly id: number;
  private reading = false;
  /** grows while reads come back full (bulk data), up to READ_BYTES */
  private readSize = FIRST_READ_BYTES;
  private readEnded = false;
  private writeFinished = false;
  private gone = false;

  constructor(
    private readonly native: NativeStream,
    private readonly owner: StreamOwner,
    highWaterMark: number,
  ) {
    super({ highWaterMark, allowHalfOpen: true });
    let id = -1;
    try {
      id = Number(native.id());
    } catch {
      // the id is diagnostic only
    }
    this.id = id;
  }

  override _read(): void {
    if (this.reading || this.readEnded) return;
    this.reading = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const asked = this.readSize;
        const piece = await this.native.read(asked);
        if (this.destroyed) return;
        if (piece === null) {
          this.readEnded = true;
          this.push(null);
          this.maybeGone();
          return;
        }
        if (piece.byteLength === asked && asked < READ_BYTES) this.readSize = Math.min(asked * 4, READ_BYTES);
        const buf =
          piece.byteLength * COMPACT_SHARE < asked ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
        if (!this.push(buf)) return;
      }
    } catch (err) {
      this.fail(classifyNative(err, this.owner.closeError()));
    } finally {
      this.reading = false;
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.native.write(chunk).then(
      () => cb(),
      (err: unknown) => this.failWrite(err, cb),
    );
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    void this.writeAll(chunks.map((c) => c.chunk)).then(
      () => cb(),
      (err: unknown) => this.failWrite(err, cb),
    );
  }

  /** Writes in order, gathering runs of small pieces into one call. */
  private async writeAll(pieces: Buffer[]): Promise<void> {
    let run: Buffer[] = [];
    let runBytes = 0;
    const flush = async (): Promise<void> => {
      if (run.length === 0) return;
      const data = run.length === 1 ? run[0]! : Buffer.concat(run, runBytes);
      run = [];
      runBytes = 0;
      await this.native.write(data);
    };
    for (const piece of pieces) {
      if (piece.length >= WRITE_GATHER_BYTES) {
        await flush();
        await this.native.write(piece);
        continue;
      }
      run.push(piece);
      runBytes += piece.length;
      if (runBytes >= WRITE_GATHER_BYTES) await flush();
    }
    await flush();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.native.finishWrite().then(
      () => {
        this.writeFinished = true;
        cb();
        this.maybeGone();
      },
      (err: unknown) => this.failWrite(err, cb),
    );
  }

  /**
   * Fails the stream: with the error where somebody listens for one, silently
   * otherwise (a stream nobody watches must not take the process down).
   */
  fail(err: Error): void {
    if (this.destroyed) return;
    this.destroy(this.listenerCount('error') > 0 ? err : undefined);
  }

  private failWrite(err: unknown, cb: (err?: Error | null) => void): void {
    this.fail(classifyNative(err, this.owner.closeError()));
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Tell the peer: our unsent data is abandoned (RESET_STREAM) and we read no
    // more (STOP_SENDING). quinn runs each after the direction's call in flight.
    if (!this.writeFinished) void this.native.resetWrite().catch(() => undefined);
    if (!this.readEnded) void this.native.stopRead().catch(() => undefined);
    this.markGone();
    cb(err);
  }

  private maybeGone(): void {
    if (this.readEnded && this.writeFinished) this.markGone();
  }

  private markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.owner.streamGone(this);
  }
}
