// Bytes moved since start, in total and per peer (GET /api/stats).
export interface PeerStats {
  peerId: string;
  uploadedBytes: number;
  downloadedBytes: number;
}

export class TransferStats {
  private readonly perPeer = new Map<string, PeerStats>();
  uploadedBytes = 0;
  downloadedBytes = 0;

  uploaded(peerId: string, bytes: number): void {
    this.uploadedBytes += bytes;
    this.peer(peerId).uploadedBytes += bytes;
  }

  downloaded(peerId: string, bytes: number): void {
    this.downloadedBytes += bytes;
    this.peer(peerId).downloadedBytes += bytes;
  }

  /** What moved to and from one peer (zeros for a peer never seen). */
  forPeer(peerId: string): PeerStats {
    return { ...(this.perPeer.get(peerId) ?? { peerId, uploadedBytes: 0, downloadedBytes: 0 }) };
  }

  snapshot(): { uploadedBytes: number; downloadedBytes: number; peers: PeerStats[] } {
    return {
      uploadedBytes: this.uploadedBytes,
      downloadedBytes: this.downloadedBytes,
      peers: [...this.perPeer.values()].map((p) => ({ ...p })),
    };
  }

  private peer(peerId: string): PeerStats {
    let p = this.perPeer.get(peerId);
    if (!p) this.perPeer.set(peerId, (p = { peerId, uploadedBytes: 0, downloadedBytes: 0 }));
    return p;
  }
}
