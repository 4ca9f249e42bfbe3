// The node's part in swarms (SPEC section 5a). For every game it downloads it
// keeps the manifest and the have-set of verified chunks, tells every peer (a
// SwarmHave when the download starts, when a peer connects, then at most one
// per interval while chunks complete, the interval growing with the number of
// peers), and serves those chunks to peers that ask with the same manifest.
// Each SwarmHave is answered with the receiver's own state for the game, so one
// exchange updates both sides. It remembers what every peer last said, for the
// downloads (which peers hold which chunks) and for the API (what each peer is
// downloading). It never marks a chunk before its hash matched, never
// `version.ini` before the download committed it, and stops announcing a
// download that is cancelled or failed, or a game that is removed.
import type { PeerDownload } from '../../../shared/api.js';
import { WireErrorCode, type WireAnswerOf, type WireRequestOf } from '../../../shared/wire.js';
import { SENTINEL_FILE, SWARM_HAVE_INTERVAL_MS, SWARM_HAVE_PER_PEER_MS } from '../constants.js';
import type { Logger } from '../logger.js';
import { request } from '../peers/peer-client.js';
import type { OpenedFile } from '../peers/served-files.js';
import { WireError } from '../peers/wire-error.js';
import type { TransportConnection } from '../transport/transport.js';
import { Bitfield } from './bitfield.js';
import { manifestId, ManifestLayout, type ManifestSource } from './manifest.js';

type SwarmHave = WireRequestOf<'SwarmHave'>;
type SwarmState = WireAnswerOf<'SwarmState'>;

/** A SwarmHave (or its answer) stays this long in flight at most. */
const HAVE_TIMEOUT_MS = 5_000;

export interface SwarmDeps {
  /** false: the node neither announces, nor serves partial chunks, nor uses swarm peers */
  enabled: boolean;
  logger: Logger;
  /** connected peers that speak this protocol version */
  connections(): { peerId: string; connection: TransportConnection }[];
  /**
   * This node's own downloaded copy of `id`, or null: `key` changes whenever
   * the copy does (a rescan), `source()` reads its file list with hashes.
   */
  ownCopy(id: string): { key: object; source(): Promise<ManifestSource> } | null;
  /** open a file of a downloaded game under the serving rules */
  openServed(id: string, rel: string): Promise<OpenedFile>;
  /** open a file under a game root under the serving rules, whether or not the game is downloaded */
  openInRoot(root: string, rel: string): Promise<OpenedFile>;
}

interface RemoteState {
  manifest: string;
  chunks: number;
  have: string;
  bytesHave: number;
  bytesTotal: number;
}

class LocalEntry {
  timer: NodeJS.Timeout | null = null;
  dirty = false;
  readonly listeners = new Set<(peerId: string) => void>();

  constructor(
    readonly id: string,
    readonly manifest: string,
    readonly layout: ManifestLayout,
    readonly have: Bitfield,
    readonly root: string,
    /** false once the download committed: every chunk is then on disk for good */
    public active: boolean,
  ) {}

  state(): SwarmState {
    return {
      type: 'SwarmState',
      id: this.id,
      manifest: this.manifest,
      chunks: this.layout.chunks,
      have: this.have.toBase64(),
      bytes_have: this.layout.bytesOf(this.have),
      bytes_total: this.layout.bytes,
    };
  }
}

/** One download's view of its swarm. */
export interface SwarmSession {
  readonly manifest: string;
  /** chunk `global` is on disk and matched its hash */
  verified(global: number): void;
  /** peers on this manifest now */
  peers(): string[];
  /** the have-set of `peerId` on this manifest (manifest numbering), or undefined when it is on none */
  peer(peerId: string): Bitfield | undefined;
  /** called with a peer's id whenever what it holds changed */
  onChange(listener: (peerId: string) => void): () => void;
  /** the download committed: the node keeps serving every chunk */
  finish(): void;
  /** the download stopped (cancel, failure): the node stops announcing it */
  withdraw(): void;
}

export class Swarm {
  private readonly local = new Map<string, LocalEntry>();
  private readonly remote = new Map<string, Map<string, RemoteState>>();
  /** the manifest of each downloaded game, keyed by the game and its file list's manifest source */
  private readonly own = new Map<string, { key: object; manifest: string; full: string; layout: ManifestLayout }>();

  constructor(private readonly deps: SwarmDeps) {}

  get enabled(): boolean {
    return this.deps.enabled;
  }

  /** Start announcing a download of `id` on `source`'s manifest; `have` holds the chunks already verified on disk. */
  begin(id: string, source: ManifestSource, root: string, have: Bitfield): SwarmSession {
    const manifest = manifestId(source);
    const layout = new ManifestLayout(source.files);
    this.drop(id);
    const entry = new LocalEntry(id, manifest, layout, have, root, true);
    // version.ini lives in memory until the commit: it is never announced before
    this.sentinelChunks(layout).forEach((g) => have.clear(g));
    if (this.deps.enabled) {
      this.local.set(id, entry);
      this.broadcast(entry);
    }
    const sentinel = new Set(this.sentinelChunks(layout));
    return {
      manifest,
      verified: (global) => {
        if (!entry.active || sentinel.has(global) || !entry.have.set(global)) return;
        this.schedule(entry);
      },
      peers: () => this.peersOn(id, manifest),
      peer: (peerId) => this.haveOf(peerId, id, manifest, layout.chunks),
      onChange: (listener) => {
        entry.listeners.add(listener);
        return () => entry.listeners.delete(listener);
      },
      finish: () => {
        entry.active = false;
        for (let g = 0; g < layout.chunks; g++) entry.have.set(g);
        if (this.local.get(id) === entry) this.broadcast(entry);
      },
      withdraw: () => {
        if (this.local.get(id) === entry) this.drop(id);
      },
    };
  }

  /** The game was removed (or is being replaced): stop announcing and serving it. */
  forget(id: string): void {
    this.drop(id);
  }

  /** A peer sent its state for a game: remember it, answer with ours. */
  async onHave(peerId: string, msg: SwarmHave): Promise<SwarmState> {
    if (this.deps.enabled) this.remember(peerId, msg.id, msg);
    return this.stateFor(msg.id);
  }

  /** A peer connected: it learns every download of ours (and we learn its state for them). */
  peerConnected(peerId: string): void {
    const connection = this.deps.connections().find((c) => c.peerId === peerId)?.connection;
    if (!connection) return;
    for (const entry of this.local.values()) void this.send(entry, peerId, connection);
  }

  peerGone(peerId: string): void {
    const states = this.remote.get(peerId);
    this.remote.delete(peerId);
    for (const id of states?.keys() ?? []) this.local.get(id)?.listeners.forEach((l) => l(peerId));
  }

  /** Open a chunk a peer asked for on `manifest`: only verified chunks of a download on it, or a downloaded copy on it. */
  async openChunk(id: string, manifest: string, rel: string, offset: number, length: number): Promise<OpenedFile> {
    const entry = this.local.get(id);
    if (entry && entry.manifest === manifest) {
      const global = entry.layout.find(rel, offset, length);
      if (global === null) throw new WireError(WireErrorCode.OutOfRange, `${rel} ${offset}+${length} is not one chunk of the manifest`);
      if (!entry.have.has(global))
        throw new WireError(WireErrorCode.ChunkUnavailable, `chunk ${global} of "${id}" is not verified here yet`);
      return this.deps.openInRoot(entry.root, rel);
    }
    const own = this.deps.enabled ? await this.ownManifest(id) : null;
    if (own && own.manifest === manifest) return this.deps.openServed(id, rel);
    throw new WireError(WireErrorCode.WrongManifest, `this node has no copy of "${id}" on manifest ${manifest}`);
  }

  /** What `peerId` said it is downloading (not what it holds complete). */
  downloading(peerId: string): PeerDownload[] {
    return [...(this.remote.get(peerId) ?? [])]
      .filter(([, s]) => s.bytesHave < s.bytesTotal)
      .map(([id, s]) => ({ id, bytesHave: s.bytesHave, bytesTotal: s.bytesTotal }));
  }

  /** Peers on the manifest this node downloads (or downloaded) `id` on, with how much each holds. */
  holders(id: string): { peerId: string; bytesHave: number; complete: boolean }[] {
    const entry = this.local.get(id);
    if (!entry) return [];
    const out: { peerId: string; bytesHave: number; complete: boolean }[] = [];
    for (const [peerId, states] of this.remote) {
      const s = states.get(id);
      if (s?.manifest === entry.manifest) out.push({ peerId, bytesHave: s.bytesHave, complete: s.bytesHave === s.bytesTotal });
    }
    return out;
  }

  stop(): void {
    for (const id of [...this.local.keys()]) this.stopTimer(id);
  }

  private async stateFor(id: string): Promise<SwarmState> {
    const entry = this.local.get(id);
    if (entry) return entry.state();
    const own = this.deps.enabled ? await this.ownManifest(id) : null;
    if (own) {
      const bytes = own.layout.bytes;
      return {
        type: 'SwarmState',
        id,
        manifest: own.manifest,
        chunks: own.layout.chunks,
        have: own.full,
        bytes_have: bytes,
        bytes_total: bytes,
      };
    }
    return { type: 'SwarmState', id, manifest: null, chunks: 0, have: '', bytes_have: 0, bytes_total: 0 };
  }

  /** The manifest of this node's downloaded copy of `id`, worked out once per copy. */
  private async ownManifest(id: string) {
    const copy = this.deps.ownCopy(id);
    if (!copy) return null;
    const cached = this.own.get(id);
    if (cached?.key === copy.key) return cached;
    const source = await copy.source().catch(() => null);
    if (!source) return null;
    const layout = new ManifestLayout(source.files);
    const value = { key: copy.key, manifest: manifestId(source), full: Bitfield.full(layout.chunks).toBase64(), layout };
    this.own.set(id, value);
    return value;
  }

  private remember(
    peerId: string,
    id: string,
    s: { manifest: string | null; chunks: number; have: string; bytes_have: number; bytes_total: number },
  ): void {
    let states = this.remote.get(peerId);
    if (!states) this.remote.set(peerId, (states = new Map()));
    const before = states.get(id);
    if (s.manifest === null) states.delete(id);
    else
      states.set(id, {
        manifest: s.manifest,
        chunks: s.chunks,
        have: s.have,
        bytesHave: Math.min(s.bytes_have, s.bytes_total),
        bytesTotal: s.bytes_total,
      });
    const entry = this.local.get(id);
    if (entry && (s.manifest === entry.manifest || before?.manifest === entry.manifest)) entry.listeners.forEach((l) => l(peerId));
  }

  private peersOn(id: string, manifest: string): string[] {
    return [...this.remote].filter(([, states]) => states.get(id)?.manifest === manifest).map(([peerId]) => peerId);
  }

  private haveOf(peerId: string, id: string, manifest: string, chunks: number): Bitfield | undefined {
    const s = this.remote.get(peerId)?.get(id);
    if (s?.manifest !== manifest || s.chunks !== chunks) return undefined;
    return Bitfield.fromBase64(s.have, chunks) ?? undefined;
  }

  private sentinelChunks(layout: ManifestLayout): number[] {
    const i = layout.files.findIndex((f) => f.path === SENTINEL_FILE);
    if (i < 0) return [];
    const out: number[] = [];
    for (let offset = 0; offset < layout.files[i]!.size; offset += layout.files[i]!.chunkSize) out.push(layout.indexOf(i, offset));
    return out;
  }

  /** Announce `entry` to every peer within the interval (one message per peer per interval at most). */
  private schedule(entry: LocalEntry): void {
    entry.dirty = true;
    if (entry.timer) return;
    const interval = Math.max(SWARM_HAVE_INTERVAL_MS, this.deps.connections().length * SWARM_HAVE_PER_PEER_MS);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (entry.dirty && this.local.get(entry.id) === entry) this.broadcast(entry);
    }, interval);
    entry.timer.unref();
  }

  private broadcast(entry: LocalEntry): void {
    entry.dirty = false;
    for (const { peerId, connection } of this.deps.connections()) void this.send(entry, peerId, connection);
  }

  private async send(entry: LocalEntry, peerId: string, connection: TransportConnection, withdraw = false): Promise<void> {
    const state = withdraw ? { manifest: null, chunks: 0, have: '', bytes_have: 0, bytes_total: 0 } : entry.state();
    const msg: SwarmHave = {
      type: 'SwarmHave',
      id: entry.id,
      manifest: state.manifest,
      chunks: state.chunks,
      have: state.have,
      bytes_have: state.bytes_have,
      bytes_total: state.bytes_total,
    };
    try {
      const answer = await request(connection, msg, 'SwarmState', { timeoutMs: HAVE_TIMEOUT_MS });
      if (answer.id === entry.id) this.remember(peerId, entry.id, answer);
    } catch (err) {
      this.deps.logger.debug({ id: entry.id, peerId, err: (err as Error).message }, 'SwarmHave failed');
    }
  }

  private drop(id: string): void {
    const entry = this.local.get(id);
    if (!entry) return;
    this.stopTimer(id);
    this.local.delete(id);
    for (const { peerId, connection } of this.deps.connections()) void this.send(entry, peerId, connection, true);
  }

  private stopTimer(id: string): void {
    const entry = this.local.get(id);
    if (entry?.timer) clearTimeout(entry.timer);
    if (entry) entry.timer = null;
  }
}
