// Which peer fetches which chunk next. Work stealing: every peer has a few
// request slots and takes the next pending chunk whenever one frees up, so a
// fast peer simply takes more chunks than a slow one, and a dead one stops
// taking any. A chunk that fails goes back to the queue and is not given to the
// same peer again; a peer that sends a bad chunk (hash mismatch) is not used
// again for this download; a chunk that failed too often fails the download.
// When every usable peer has failed a chunk, `resetRetries` lets them try it
// again (the attempt cap still bounds it). Queries (`next` aside, which hands a
// chunk out) change nothing: `blocked` and `isBanned` only read.
export interface Chunk {
  index: number;
  fileIndex: number;
  offset: number;
  length: number;
  sha256: string;
  /** peers that have this file (validated) */
  peers: readonly string[];
}

export interface SchedulerOptions {
  slotsPerPeer: number;
  maxAttempts: number;
}

export type ChunkFailure = 'error' | 'corrupt';

export class ChunkScheduler {
  private readonly pending: Chunk[];
  private readonly inFlight = new Map<number, string>();
  private readonly attempts = new Map<number, number>();
  private readonly failedOn = new Map<number, Set<string>>();
  private readonly banned = new Set<string>();
  private readonly gone = new Set<string>();
  private readonly busy = new Map<string, number>();
  /** chunks done per peer (for progress and for the balance scenarios) */
  readonly servedBy = new Map<string, number>();
  private done = 0;
  private fatal: Chunk | null = null;

  constructor(
    private readonly chunks: readonly Chunk[],
    private readonly opts: SchedulerOptions,
  ) {
    this.pending = [...chunks];
  }

  /** The next chunk `peer` should fetch, or null if none fits it now. */
  next(peer: string): Chunk | null {
    if (this.banned.has(peer) || this.gone.has(peer) || this.fatal) return null;
    if ((this.busy.get(peer) ?? 0) >= this.opts.slotsPerPeer) return null;
    const i = this.pending.findIndex((c) => c.peers.includes(peer) && !this.failedOn.get(c.index)?.has(peer));
    if (i < 0) return null;
    const [chunk] = this.pending.splice(i, 1) as [Chunk];
    this.inFlight.set(chunk.index, peer);
    this.busy.set(peer, (this.busy.get(peer) ?? 0) + 1);
    return chunk;
  }

  complete(chunk: Chunk, peer: string): void {
    this.release(chunk, peer);
    this.done++;
    this.servedBy.set(peer, (this.servedBy.get(peer) ?? 0) + 1);
  }

  fail(chunk: Chunk, peer: string, why: ChunkFailure): void {
    this.release(chunk, peer);
    if (why === 'corrupt') this.banned.add(peer);
    const n = (this.attempts.get(chunk.index) ?? 0) + 1;
    this.attempts.set(chunk.index, n);
    let failed = this.failedOn.get(chunk.index);
    if (!failed) this.failedOn.set(chunk.index, (failed = new Set()));
    failed.add(peer);
    if (n >= this.opts.maxAttempts) this.fatal = chunk;
    else this.pending.unshift(chunk);
  }

  /** A peer that left: it takes nothing more. */
  peerGone(peer: string): void {
    this.gone.add(peer);
  }

  get finished(): boolean {
    return this.done === this.chunks.length;
  }

  /** Why the download cannot finish, or null while it still can. A query: it changes nothing. */
  blocked(livePeers: readonly string[]): string | null {
    if (this.fatal) return `chunk ${this.fatal.index} failed ${this.opts.maxAttempts} times`;
    if (this.inFlight.size > 0) return null;
    const usable = this.usable(livePeers);
    for (const c of this.pending) {
      if (!c.peers.some((p) => usable.includes(p))) return 'no peer that has the file is left';
    }
    return null;
  }

  /**
   * Once nothing is in flight: every pending chunk that each of its usable
   * peers has already failed may go to them again. Returns how many chunks
   * were released; the attempt cap still bounds each.
   */
  resetRetries(livePeers: readonly string[]): number {
    if (this.fatal || this.inFlight.size > 0) return 0;
    const usable = this.usable(livePeers);
    let released = 0;
    for (const c of this.pending) {
      const candidates = c.peers.filter((p) => usable.includes(p));
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

  get chunksDone(): number {
    return this.done;
  }

  private usable(livePeers: readonly string[]): string[] {
    return livePeers.filter((p) => !this.banned.has(p) && !this.gone.has(p));
  }

  private release(chunk: Chunk, peer: string): void {
    this.inFlight.delete(chunk.index);
    this.busy.set(peer, Math.max(0, (this.busy.get(peer) ?? 1) - 1));
  }
}
