// A single-producer, single-consumer ring of records in a SharedArrayBuffer:
// the streaming extraction worker puts records in, the main thread takes them
// out and sends them on. Its point is backpressure: when the ring is full the
// producer BLOCKS (Atomics.wait), so an extraction never runs ahead of the
// network by more than the ring's capacity, whatever the archive expands to.
//
// Invariants: a record ([kind u8][length u32 LE][payload]) is published whole —
// `used` grows only after all its bytes are in — so the consumer never sees
// half of one; each side owns its own offset and only `used` is shared. Each
// side sleeps on a signal word the other side bumps after every change, and
// reads that word BEFORE checking its condition, so a wake-up that lands
// between the check and the sleep is never lost. Closing the ring from the
// consumer side wakes a blocked producer, which then throws RingClosedError.
import { setTimeout as delay } from 'node:timers/promises';

const USED = 0;
const CLOSED = 1;
const FINISHED = 2;
const TO_PRODUCER = 3;
const TO_CONSUMER = 4;
const CTRL_WORDS = 8;

export const RECORD_HEADER_BYTES = 5;

/** What the two sides share; plain data, so it can travel in workerData. */
export interface RingBuffers {
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

export interface RingRecord {
  kind: number;
  payload: Buffer;
}

/** The consumer closed the ring (the transfer was cancelled): stop producing. */
export class RingClosedError extends Error {
  override readonly name = 'RingClosedError';
  constructor() {
    super('the consumer closed the stream');
  }
}

export function createRing(capacity: number): RingBuffers {
  if (!Number.isInteger(capacity) || capacity < 64 || capacity > 2 ** 30) throw new RangeError(`ring capacity ${capacity} is out of range`);
  return { ctrl: new SharedArrayBuffer(CTRL_WORDS * 4), data: new SharedArrayBuffer(capacity) };
}

function copyIn(ring: Uint8Array, at: number, src: Uint8Array): number {
  const first = Math.min(src.length, ring.length - at);
  ring.set(src.subarray(0, first), at);
  if (first < src.length) ring.set(src.subarray(first), 0);
  return (at + src.length) % ring.length;
}

function copyOut(ring: Uint8Array, at: number, dest: Uint8Array): number {
  const first = Math.min(dest.length, ring.length - at);
  dest.set(ring.subarray(at, at + first), 0);
  if (first < dest.length) dest.set(ring.subarray(0, dest.length - first), first);
  return (at + dest.length) % ring.length;
}

/** The worker's side. Every call may block the calling thread. */
export class RingProducer {
  private readonly ctrl: Int32Array;
  private readonly bytes: Uint8Array;
  private offset = 0;
  private readonly header = new Uint8Array(RECORD_HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);

  constructor(
    buffers: RingBuffers,
    /** longest single sleep, a safety net only: close() wakes a sleeping producer at once */
    private readonly waitSliceMs = 5_000,
  ) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.bytes = new Uint8Array(buffers.data);
  }

  get capacity(): number {
    return this.bytes.length;
  }

  /** Largest payload one record can carry. */
  get maxPayload(): number {
    return this.bytes.length - RECORD_HEADER_BYTES;
  }

  get closed(): boolean {
    return Atomics.load(this.ctrl, CLOSED) !== 0;
  }

  /** Append one record, blocking while the ring has no room for it. */
  write(kind: number, payload: Uint8Array = new Uint8Array(0)): void {
    const need = RECORD_HEADER_BYTES + payload.length;
    if (payload.length > this.maxPayload) throw new RangeError(`record of ${payload.length} bytes does not fit the ring`);
    for (;;) {
      const seen = Atomics.load(this.ctrl, TO_PRODUCER);
      if (this.closed) throw new RingClosedError();
      if (this.capacity - Atomics.load(this.ctrl, USED) >= need) break;
      Atomics.wait(this.ctrl, TO_PRODUCER, seen, this.waitSliceMs);
    }
    this.header[0] = kind;
    this.headerView.setUint32(1, payload.length, true);
    this.offset = copyIn(this.bytes, this.offset, this.header);
    this.offset = copyIn(this.bytes, this.offset, payload);
    Atomics.add(this.ctrl, USED, need);
    this.wakeConsumer();
  }

  /** No more records will come. */
  finish(): void {
    Atomics.store(this.ctrl, FINISHED, 1);
    this.wakeConsumer();
  }

  private wakeConsumer(): void {
    Atomics.add(this.ctrl, TO_CONSUMER, 1);
    Atomics.notify(this.ctrl, TO_CONSUMER);
  }
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** The main thread's side; never blocks the event loop. */
export class RingConsumer {
  private readonly ctrl: Int32Array;
  private readonly bytes: Uint8Array;
  private offset = 0;
  private producerGone = false;

  constructor(
    buffers: RingBuffers,
    private readonly waitSliceMs = 500,
  ) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.bytes = new Uint8Array(buffers.data);
  }

  /** Bytes (records and their headers) waiting in the ring. */
  get queuedBytes(): number {
    return Atomics.load(this.ctrl, USED);
  }

  /** The next record; null once the producer has finished (or is gone) and the ring is empty, or after close(). */
  async read(): Promise<RingRecord | null> {
    for (;;) {
      const seen = Atomics.load(this.ctrl, TO_CONSUMER);
      if (Atomics.load(this.ctrl, CLOSED) !== 0) return null;
      if (Atomics.load(this.ctrl, USED) > 0) return this.take();
      if (this.producerGone || Atomics.load(this.ctrl, FINISHED) !== 0) return null;
      await this.sleep(seen);
    }
  }

  /** Stop the producer: a blocked write wakes up and throws RingClosedError. Idempotent. */
  close(): void {
    Atomics.store(this.ctrl, CLOSED, 1);
    Atomics.add(this.ctrl, TO_PRODUCER, 1);
    Atomics.notify(this.ctrl, TO_PRODUCER);
    this.wakeSelf();
  }

  /** The producer died without finish() (worker crash): read() drains what is there, then returns null. */
  markProducerGone(): void {
    this.producerGone = true;
    this.wakeSelf();
  }

  private take(): RingRecord {
    const header = new Uint8Array(RECORD_HEADER_BYTES);
    this.offset = copyOut(this.bytes, this.offset, header);
    const kind = header[0]!;
    const length = new DataView(header.buffer).getUint32(1, true);
    const payload = Buffer.allocUnsafe(length);
    this.offset = copyOut(this.bytes, this.offset, payload);
    Atomics.sub(this.ctrl, USED, RECORD_HEADER_BYTES + length);
    Atomics.add(this.ctrl, TO_PRODUCER, 1);
    Atomics.notify(this.ctrl, TO_PRODUCER);
    return { kind, payload };
  }

  private wakeSelf(): void {
    Atomics.add(this.ctrl, TO_CONSUMER, 1);
    Atomics.notify(this.ctrl, TO_CONSUMER);
  }

  private async sleep(seen: number): Promise<void> {
    if (!waitAsync) {
      await delay(2); // no Atomics.waitAsync (older runtimes): poll
      return;
    }
    const result = waitAsync(this.ctrl, TO_CONSUMER, seen, this.waitSliceMs);
    if (result.async) await result.value;
  }
}
