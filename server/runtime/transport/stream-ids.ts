// QUIC stream ids (RFC 9000 §2.1): bit 0 is the initiator (0 client, 1 server),
// bit 1 is unidirectional; we use bidirectional streams only, so our ids step
// by 4 from 0 (client) or 1 (server). A peer may open ids out of order, so
// "seen" is tracked as a watermark plus the few ids seen above it; that set
// is bounded by the stream limit we grant.
export class StreamIds {
  private nextLocal: number;
  private readonly remoteInitiator: number;
  private seenBelow = 0;
  private readonly seenAbove = new Set<number>();

  constructor(isClient: boolean) {
    this.nextLocal = isClient ? 0 : 1;
    this.remoteInitiator = isClient ? 1 : 0;
  }

  /** The id the next locally opened stream gets. */
  peekLocal(): number {
    return this.nextLocal;
  }

  takeLocal(): number {
    const id = this.nextLocal;
    this.nextLocal += 4;
    return id;
  }

  /** A bidirectional stream the peer opened. */
  isRemote(id: number): boolean {
    return (id & 3) === this.remoteInitiator;
  }

  /** Marks a peer stream id as seen; false when it had been seen before. */
  markRemoteSeen(id: number): boolean {
    const index = Math.floor(id / 4);
    if (index < this.seenBelow || this.seenAbove.has(index)) return false;
    this.seenAbove.add(index);
    while (this.seenAbove.delete(this.seenBelow)) this.seenBelow++;
    return true;
  }
}
