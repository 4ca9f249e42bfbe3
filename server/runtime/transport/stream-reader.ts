// Moves received bytes out of quiche into a stream's Duplex. Bytes are read
// into a forward-only slab and handed to the reader as views: never copied
// again, never overwritten (the reader owns them). Reading stops as soon as
// the Duplex buffer is full, so the rest stays in quiche, its receive window
// stops advancing, and flow control holds the sender back.
import { StreamFailedError } from './errors.js';
import { classifyNativeError, type NativeConnection } from './native-binding.js';
import type { QuicStream } from './quic-stream.js';

/** A read is only attempted with at least this much slab space left. */
const MIN_READ_BYTES = 16 * 1024;

export interface ReadSlab {
  /** Space to read into: `buf` from `offset` on. */
  readSlab(min: number): { buf: Buffer; offset: number };
  /** `bytes` of it now belong to a reader. */
  consumeSlab(bytes: number): void;
}

/** Delivers what quiche holds for `s` while the Duplex wants it. */
export function pullStream(q: NativeConnection, s: QuicStream, slabs: ReadSlab): void {
  for (;;) {
    const slab = slabs.readSlab(MIN_READ_BYTES);
    let r: [number, boolean] | null;
    try {
      r = q.streamRecv(s.id, slab.buf.subarray(slab.offset));
    } catch (err) {
      const c = classifyNativeError(err);
      if (c.kind === 'reset') s.deliverReset(c.appCode);
      else s.fail(new StreamFailedError(c.message, { cause: err }));
      return;
    }
    if (r === null) return;
    const n = r[0];
    let more = true;
    if (n > 0) {
      const chunk = slab.buf.subarray(slab.offset, slab.offset + n);
      slabs.consumeSlab(n);
      more = s.deliver(chunk);
    }
    if (r[1]) {
      s.deliverEnd();
      return;
    }
    if (n === 0 || !more || s.destroyed) return;
  }
}

/** Reads and drops whatever quiche holds for a stream we no longer track. */
export function discardStream(q: NativeConnection, id: number, scratch: Buffer): void {
  try {
    while (q.streamRecv(id, scratch) !== null) {
      // dropped
    }
  } catch {
    // reset or finished: nothing left to drop
  }
}
