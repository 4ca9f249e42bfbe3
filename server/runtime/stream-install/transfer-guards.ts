// How many streamed installs this node sends at once, per game and in total.
// Each one runs an extraction worker (CPU, unrar's window in memory), so they
// are bounded; a receiver refused with `busy` tries its next validated peer.
// The invariant the sender keeps: every acquire() is matched by exactly one
// release, once its worker has exited, however the transfer ended — a leaked
// guard would refuse every later transfer of that game.
import { WireErrorCode } from '../../../shared/wire.js';
import { WireError } from '../peers/wire-error.js';

/** Streamed installs of one game sent at once. */
export const DEFAULT_STREAMS_PER_GAME = 1;
/** Streamed installs sent at once, all games together. */
export const DEFAULT_STREAMS_TOTAL = 4;

export class TransferGuards {
  private readonly counts = new Map<string, number>();
  private total = 0;

  constructor(
    readonly maxPerGame = DEFAULT_STREAMS_PER_GAME,
    readonly maxTotal = DEFAULT_STREAMS_TOTAL,
  ) {}

  /** Take a slot for `id` or throw a `busy` WireError; returns its release (idempotent). */
  acquire(id: string): () => void {
    const n = this.counts.get(id) ?? 0;
    if (n >= this.maxPerGame)
      throw new WireError(WireErrorCode.Busy, `"${id}" is already being streamed to ${n} receiver(s); try another peer`);
    if (this.total >= this.maxTotal)
      throw new WireError(WireErrorCode.Busy, `this node already streams ${this.total} installs; try another peer`);
    this.counts.set(id, n + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.counts.get(id) ?? 1) - 1;
      if (left > 0) this.counts.set(id, left);
      else this.counts.delete(id);
    };
  }

  /** Transfers in flight, of one game or of all. */
  active(id?: string): number {
    return id === undefined ? this.total : (this.counts.get(id) ?? 0);
  }
}
