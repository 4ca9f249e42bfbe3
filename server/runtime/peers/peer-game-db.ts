// What every peer announces: its games (only catalog ids: anything else is
// dropped on arrival, so it is neither stored nor shown), the eti_version of
// each, and the last file list received per game.
import type { AnnouncedGame, WireFile } from '../../../shared/wire.js';
import { isGameId } from '../../../shared/game-id.js';
import { newestVersion } from '../../../shared/version.js';
import type { Catalog } from '../library/catalog.js';

export interface PeerGames {
  peerId: string;
  games: Map<string, AnnouncedGame>;
  files: Map<string, { eti_version: string | null; files: WireFile[] }>;
}

export interface GameSourceInfo {
  peerId: string;
  version: string | null;
}

export class PeerGameDB {
  private readonly peers = new Map<string, PeerGames>();

  constructor(private readonly catalog: Catalog) {}

  /** Replace a peer's announced games; returns whether anything changed. */
  setGames(peerId: string, games: readonly AnnouncedGame[]): boolean {
    const next = new Map<string, AnnouncedGame>();
    for (const g of games) {
      if (typeof g !== 'object' || g === null || !isGameId(g.id) || !this.catalog.has(g.id)) continue;
      next.set(g.id, {
        id: g.id,
        name: String(g.name ?? '').slice(0, 200),
        size: Number.isFinite(g.size) && g.size >= 0 ? g.size : 0,
        eti_version: typeof g.eti_version === 'string' ? g.eti_version.slice(0, 64) : null,
        downloaded: g.downloaded === true,
        installed: g.installed === true,
      });
    }
    const record = this.peers.get(peerId);
    if (record && sameGames(record.games, next)) return false;
    if (record) record.games = next;
    else this.peers.set(peerId, { peerId, games: next, files: new Map() });
    return true;
  }

  setFiles(peerId: string, id: string, eti_version: string | null, files: WireFile[]): void {
    const record = this.peers.get(peerId);
    if (record && this.catalog.has(id)) record.files.set(id, { eti_version, files });
  }

  files(peerId: string, id: string): { eti_version: string | null; files: WireFile[] } | undefined {
    return this.peers.get(peerId)?.files.get(id);
  }

  removePeer(peerId: string): boolean {
    return this.peers.delete(peerId);
  }

  /** Peers that have the game downloaded (they can serve it), with their version. */
  sources(id: string): GameSourceInfo[] {
    const out: GameSourceInfo[] = [];
    for (const record of this.peers.values()) {
      const g = record.games.get(id);
      if (g?.downloaded) out.push({ peerId: record.peerId, version: g.eti_version });
    }
    return out;
  }

  /**
   * The size the peers holding `version` announce for the game: the smallest
   * (a peer can only make a space check pass early by lying, never fail it;
   * the exact check follows the validated file list). Null when none does.
   */
  announcedSize(id: string, version: string): number | null {
    let size: number | null = null;
    for (const record of this.peers.values()) {
      const g = record.games.get(id);
      if (g?.downloaded && g.eti_version === version) size = size === null ? g.size : Math.min(size, g.size);
    }
    return size;
  }

  /** Newest version announced by any peer. */
  latestVersion(id: string): string | null {
    return newestVersion([...this.peers.values()].map((r) => r.games.get(id)?.eti_version));
  }

  gameCount(peerId: string): number {
    return this.peers.get(peerId)?.games.size ?? 0;
  }

  games(peerId: string): AnnouncedGame[] {
    return [...(this.peers.get(peerId)?.games.values() ?? [])];
  }
}

function sameGames(a: Map<string, AnnouncedGame>, b: Map<string, AnnouncedGame>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, x] of a) {
    const y = b.get(id);
    if (!y || x.eti_version !== y.eti_version || x.downloaded !== y.downloaded || x.installed !== y.installed || x.size !== y.size)
      return false;
  }
  return true;
}
