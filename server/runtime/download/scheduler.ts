// Which peer fetches which chunk next (SPEC sections 5 and 5a). Work stealing:
// every peer has a few request slots and takes a chunk whenever one frees up,
// so a fast peer takes more chunks than a slow one and a dead one takes none.
// Sources are the complete holders the file list was validated with (each
// chunk's `peers`) and swarm peers on the same manifest, whose have-sets
// change as they download (`setHave`). A peer takes the rarest chunk it has
// (fewest usable holders; random among equals), and a complete holder is not
// asked for a chunk a swarm peer already holds, so the seed's uplink goes to
// what nobody else has yet. Once nothing is pending, an idle peer may take a
// second copy of a chunk in flight elsewhere for a while (the endgame): the
// first verified copy wins and the other is cancelled. A chunk that fails goes back to the
// queue and is not given to the same peer again; a peer that sends a bad chunk
// (hash mismatch) is not used again; a busy or chunk-less answer is no failure;
// a chunk that failed too often fails the download. Queries (`blocked`,
// `isBanned`, `has`) change nothing.
import type { Bitfield } from '../swarm/bitfield.js';

export interface Chunk {
  index: number;
  fileIndex: number;
  offset: number;
  length: number;
  sha256: string;
  /** validated complete holders of this chunk's file */
  peers: readonly string[];
  /** the chunk's number in the manifest (have-sets use it) */
  global: number;
}

export interface SchedulerOptions {
  slotsPerPeer: number;
  maxAttempts: number;
  /** random in [0, 1), for ties between equally rare chunks (tests pass their own) */
  random?: () => number;
  /** a clock in ms (tests pass their own) */
  now?: () => number;
  /** how long a declined chunk is not offered to the peer that declined it */
  declineMs?: number;
  /** a chunk gets a second copy (the endgame) only once it has been in flight this long */
  endgameAfterMs?: number;
}

/**
 * error: the request failed; corrupt: the bytes did not match; busy: the peer
 * has no upload slot; unavailable: it lacks the chunk; declined: it is sending
 * that chunk to someone else (a seed spreading its uplink), so it is not
 * offered that chunk again for a moment.
 */
export type ChunkFailure = 'error' | 'corrupt' | 'busy' | 'unavailable' | 'declined';

export interface Assignment {
  chunk: Chunk;
  /** a second copy of a chunk in flight elsewhere (endgame): fetch it aside, write it only if it wins */
  duplicate: boolean;
}

export class ChunkScheduler {
  private pending: Chunk[];
  private readonly inFlight = new Map<number, Set<string>>();
  /** since when each chunk in flight has been */
  private readonly inFlightSince = new Map<number, number>();
  private readonly doneSet = new Set<number>();
  private readonly attempts = new Map<number, number>();
  private readonly failedOn = new Map<number, Set<string>>();
  private readonly banned = new Set<string>();
  private readonly gone = new Set<string>();
  private readonly busy = new Map<string, number>();
  /** swarm have-sets, by plan index */
  private readonly swarm = new Map<string, Bitfield>();
  /** usable holders per chunk (plan index) */
  private readonly avail: Int32Array;
  /** chunks done per peer (for progress and for the balance scenarios) */
  readonly servedBy = new Map<string, number>();
  private fatal: Chunk | null = null;
  private readonly random: () => number;
  private readonly now: () => number;
  /** chunk index → peer → until when that peer declined it */
  private readonly declined = new Map<number, Map<string, number>>();

  constructor(
    private readonly chunks: readonly Chunk[],
    private readonly opts: SchedulerOptions,
  ) {
    this.pending = [...chunks];
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? (() => performance.now());
    this.avail = new Int32Array(chunks.length);
    for (const c of chunks) this.avail[c.index] = c.peers.length;
  }

  /** Whether `peer` holds `chunk` (validated for its file, or in its have-set). */
  has(peer: string, chunk: Chunk): boolean {
    return chunk.peers.includes(peer) || (this.swarm.get(peer)?.has(chunk.index) ?? false);
  }

  /** A swarm peer's have-set, as plan indices (`bits.has(chunk.index)`); replaces the previous one. */
  setHave(peer: string, bits: Bitfield): void {
    const before = this.swarm.get(peer);
    const counted = !this.banned.has(peer) && !this.gone.has(peer);
    if (counted) {
      for (const c of this.chunks) {
        if (c.peers.includes(peer)) continue;
        const was = before?.has(c.index) ?? false;
        const now = bits.has(c.index);
        if (was !== now) this.avail[c.index]! += now ? 1 : -1;
      }
    }
    this.swarm.set(peer, bits);
  }

  /** The next chunk `peer` should fetch, or null if none fits it now. */
  next(peer: string): Assignment | null {
    if (!this.usablePeer(peer) || this.fatal) return null;
    if ((this.busy.get(peer) ?? 0) >= this.opts.slotsPerPeer) return null;
    let best = -1;
    let bestAvail = Infinity;
    let ties = 0;
    const now = this.now();
    for (let i = 0; i < this.pending.length; i++) {
      const c = this.pending[i]!;
      if (!this.has(peer, c) || this.failedOn.get(c.index)?.has(peer)) continue;
      if ((this.declined.get(c.index)?.get(peer) ?? 0) > now) continue;
      // a complete holder (a seed) is not asked for what a swarm peer already has: its uplink goes to what nobody else has
      if (c.peers.includes(peer) && this.avail[c.index]! > this.usableValidated(c)) continue;
      const a = this.avail[c.index]!;
      if (a < bestAvail) {
        best = i;
        bestAvail = a;
        ties = 1;
      } else if (a === bestAvail && this.random() * ++ties < 1) {
        best = i; // reservoir sampling: each of the equally rare chunks with the same chance
      }
    }
    if (best >= 0) {
      const [chunk] = this.pending.splice(best, 1) as [Chunk];
      this.take(chunk, peer);
      return { chunk, duplicate: false };
    }
    if (this.pending.length > 0) return null;
    // endgame: a second copy of a chunk only one other peer has been fetching for a while (a slow or stuck source)
    const slowSince = now - (this.opts.endgameAfterMs ?? 1_000);
    for (const [index, fetchers] of this.inFlight) {
      const chunk = this.chunks[index]!;
      if (fetchers.size !== 1 || fetchers.has(peer) || this.doneSet.has(index)) continue;
      if ((this.inFlightSince.get(index) ?? now) > slowSince) continue;
      if (!this.has(peer, chunk) || this.failedOn.get(index)?.has(peer)) continue;
      this.take(chunk, peer);
      return { chunk, duplicate: true };
    }
    return null;
  }

  /** The other peers fetching `chunk` (the endgame's losers, to cancel once `peer` has it). */
  others(chunk: Chunk, peer: string): string[] {
    return [...(this.inFlight.get(chunk.index) ?? [])].filter((p) => p !== peer);
  }

  isDone(chunk: Chunk): boolean {
    return this.doneSet.has(chunk.index);
  }

  /** `peer` delivered `chunk` verified; false when another copy was first (nothing changes then). */
  complete(chunk: Chunk, peer: string): boolean {
    this.release(chunk, peer);
    if (this.doneSet.has(chunk.index)) return false;
    this.doneSet.add(chunk.index);
    this.servedBy.set(peer, (this.servedBy.get(peer) ?? 0) + 1);
    return true;
  }

  /** `peer`'s copy was cancelled because another one won: no failure. */
  cancel(chunk: Chunk, peer: string): void {
    this.release(chunk, peer);
    this.requeue(chunk);
  }

  fail(chunk: Chunk, peer: string, why: ChunkFailure): void {
    this.release(chunk, peer);
    if (why === 'corrupt') this.ban(peer);
    if (why === 'declined') {
      let byPeer = this.declined.get(chunk.index);
      if (!byPeer) this.declined.set(chunk.index, (byPeer = new Map()));
      byPeer.set(peer, this.now() + (this.opts.declineMs ?? 1_000));
    }
    if (why === 'unavailable' && this.swarm.get(peer)?.clear(chunk.index) && !chunk.peers.includes(peer) && this.usablePeer(peer)) {
      this.avail[chunk.index]!--;
    }
    if (why === 'error' || why === 'corrupt') {
      const n = (this.attempts.get(chunk.index) ?? 0) + 1;
      this.attempts.set(chunk.index, n);
      let failed = this.failedOn.get(chunk.index);
      if (!failed) this.failedOn.set(chunk.index, (failed = new Set()));
      failed.add(peer);
      if (n >= this.opts.maxAttempts && !this.doneSet.has(chunk.index)) this.fatal = chunk;
    }
    this.requeue(chunk);
  }

  /** A peer that left: it takes nothing more. */
  peerGone(peer: string): void {
    if (this.usablePeer(peer)) this.uncount(peer);
    this.gone.add(peer);
  }

  get finished(): boolean {
    return this.doneSet.size === this.chunks.length;
  }

  /** Why the download cannot finish, or null while it still can. A query: it changes nothing. */
  blocked(livePeers: readonly string[]): string | null {
    if (this.fatal) return `chunk ${this.fatal.index} failed ${this.opts.maxAttempts} times`;
    if (this.inFlight.size > 0) return null;
    const usable = this.usable(livePeers);
    for (const c of this.pending) {
      if (!usable.some((p) => this.has(p, c))) return 'no peer that has the remaining chunks is left';
    }
    return null;
  }

  /**
   * Once nothing is in flight: every pending chunk that each of its usable
   * holders has already failed may go to them again. Returns how many chunks
   * were released; the attempt cap still bounds each.
   */
  resetRetries(livePeers: readonly string[]): number {
    if (this.fatal || this.inFlight.size > 0) return 0;
    const usable = this.usable(livePeers);
    let released = 0;
    for (const c of this.pending) {
      const candidates = usable.filter((p) => this.has(p, c));
      const failed = this.failedOn.get(c.index);
      if (candidates.length > 0 && failed && candidates.every((p) => failed.has(p))) {
        failed.clear();
        released++;
      }
    }
    return released;
  }

  isBanned(peer: string): boolean {
    return this.banned.has(peer);
  }

  /** Whether `peer` may still be given chunks (neither banned nor gone). */
  takes(peer: string): boolean {
    return this.usablePeer(peer);
  }

  get chunksDone(): number {
    return this.doneSet.size;
  }

  private take(chunk: Chunk, peer: string): void {
    let fetchers = this.inFlight.get(chunk.index);
    if (!fetchers) {
      this.inFlight.set(chunk.index, (fetchers = new Set()));
      this.inFlightSince.set(chunk.index, this.now());
    }
    fetchers.add(peer);
    this.busy.set(peer, (this.busy.get(peer) ?? 0) + 1);
  }

  /** Back to the queue, unless it is done or another copy is still in flight. */
  private requeue(chunk: Chunk): void {
    if (this.doneSet.has(chunk.index) || this.inFlight.has(chunk.index) || this.pending.includes(chunk)) return;
    this.pending.unshift(chunk);
  }

  private ban(peer: string): void {
    if (this.usablePeer(peer)) this.uncount(peer);
    this.banned.add(peer);
  }

  /** The peer's holdings no longer count towards any chunk's availability. */
  private uncount(peer: string): void {
    for (const c of this.chunks) if (this.has(peer, c)) this.avail[c.index]!--;
  }

  /** Validated complete holders of `c` still usable. */
  private usableValidated(c: Chunk): number {
    let n = 0;
    for (const p of c.peers) if (this.usablePeer(p)) n++;
    return n;
  }

  private usablePeer(peer: string): boolean {
    return !this.banned.has(peer) && !this.gone.has(peer);
  }

  private usable(livePeers: readonly string[]): string[] {
    return livePeers.filter((p) => this.usablePeer(p));
  }

  private release(chunk: Chunk, peer: string): void {
    const fetchers = this.inFlight.get(chunk.index);
    if (fetchers?.delete(peer)) this.busy.set(peer, Math.max(0, (this.busy.get(peer) ?? 1) - 1));
    if (fetchers?.size === 0) {
      this.inFlight.delete(chunk.index);
      this.inFlightSince.delete(chunk.index);
    }
  }
}
