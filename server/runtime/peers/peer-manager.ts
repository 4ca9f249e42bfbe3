// Membership of the peer set. A peer exists from a successful Hello exchange
// (either direction) until it stops answering pings for `peerTimeoutMs` or its
// connection closes; it is keyed by peer id, so a restarted node (same id) is
// one entry, never two. A Hello with our own id is ignored (we never peer with
// ourselves, also via our own mDNS announcement), and a Hello whose id is not
// the one the connection's handshake proved is refused. Library exchange rides on liveness: every Pong carries the
// peer's library revision, and a new revision triggers one ListGames.
import type { PeerBase } from '../../../shared/api.js';
import { PROTO_VERSION, WireErrorCode, type WireAnswer, type WireRequestOf } from '../../../shared/wire.js';
import type { Logger } from '../logger.js';
import type { Endpoint, Transport, TransportConnection } from '../transport/transport.js';
import { request } from './peer-client.js';
import type { PeerGameDB } from './peer-game-db.js';
import type { ProtocolServer } from './protocol-server.js';
import { WireError } from './wire-error.js';

export interface PeerTiming {
  /** how often every peer is pinged */
  pingIntervalMs: number;
  /** a peer silent this long is dropped */
  peerTimeoutMs: number;
  /** one request's time limit */
  requestTimeoutMs: number;
  /** how often unreachable static peers are tried again */
  redialIntervalMs: number;
}

export const DEFAULT_PEER_TIMING: PeerTiming = {
  pingIntervalMs: 2_000,
  peerTimeoutMs: 10_000,
  requestTimeoutMs: 5_000,
  redialIntervalMs: 3_000,
};

export interface PeerState {
  peerId: string;
  name: string;
  /** where the peer listens (its QUIC endpoint) */
  endpoint: Endpoint;
  connection: TransportConnection;
  lastSeen: number;
  rttMs: number | null;
  libraryRev: number | null;
  /** the proto_version of its Hello */
  protoVersion: number;
}

export interface PeerManagerEvents {
  onPeerConnected(peer: PeerBase): void;
  onPeerDisconnected(peerId: string): void;
  onPeerGamesChanged(peerId: string): void;
}

export interface PeerManagerOptions {
  transport: Transport;
  server: ProtocolServer;
  db: PeerGameDB;
  selfId: string;
  name: () => string;
  listenPort: number;
  events: PeerManagerEvents;
  logger: Logger;
  timing?: Partial<PeerTiming>;
}

const endpointKey = (e: Endpoint) => `${e.host}:${e.port}`;

export class PeerManager {
  private readonly peers = new Map<string, PeerState>();
  private readonly statics = new Map<string, Endpoint>();
  /** endpoints that turned out to be ourselves (our own mDNS record, a --peer to self) */
  private readonly selfEndpoints = new Set<string>();
  private readonly dialing = new Set<string>();
  private readonly refreshing = new Set<string>();
  private readonly timing: PeerTiming;
  private pingTimer: NodeJS.Timeout | undefined;
  private redialTimer: NodeJS.Timeout | undefined;
  private stopOnConnection: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly opts: PeerManagerOptions) {
    this.timing = { ...DEFAULT_PEER_TIMING, ...opts.timing };
  }

  start(): void {
    this.stopOnConnection = this.opts.transport.onConnection((connection) => this.opts.server.attach(connection));
    this.pingTimer = setInterval(() => void this.tick(), this.timing.pingIntervalMs);
    this.redialTimer = setInterval(() => this.redialStatics(), this.timing.redialIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pingTimer);
    clearInterval(this.redialTimer);
    this.stopOnConnection?.();
    for (const peer of this.peers.values()) void peer.connection.close();
    this.peers.clear();
  }

  /** A peer given by hand (`--peer`): dialled now and again whenever it is not connected. */
  addStatic(endpoint: Endpoint): void {
    this.statics.set(endpointKey(endpoint), endpoint);
    void this.dial(endpoint);
  }

  /** A peer found by discovery. */
  addDiscovered(endpoint: Endpoint, peerId?: string): void {
    if (peerId === this.opts.selfId) return;
    if (peerId !== undefined && this.peers.has(peerId)) return;
    void this.dial(endpoint);
  }

  list(): PeerBase[] {
    return [...this.peers.values()].map((p) => this.toApi(p));
  }

  get(peerId: string): PeerState | undefined {
    return this.peers.get(peerId);
  }

  /** The peer a connection belongs to, if it said Hello. */
  peerIdFor(connection: TransportConnection): string | null {
    for (const p of this.peers.values()) if (p.connection === connection) return p.peerId;
    return null;
  }

  get count(): number {
    return this.peers.size;
  }

  /** Dial an endpoint and exchange Hellos. Failures are logged; statics are retried by the timer. */
  async dial(endpoint: Endpoint): Promise<void> {
    const key = endpointKey(endpoint);
    if (this.stopped || this.selfEndpoints.has(key) || this.dialing.has(key)) return;
    if ([...this.peers.values()].some((p) => endpointKey(p.endpoint) === key)) return;
    this.dialing.add(key);
    let connection: TransportConnection | undefined;
    try {
      connection = await this.opts.transport.connect(endpoint);
      this.opts.server.attach(connection);
      const hello = await request(connection, this.ourHello(), 'Hello', { timeoutMs: this.timing.requestTimeoutMs });
      if (hello.peer_id === this.opts.selfId) {
        this.selfEndpoints.add(key);
        await connection.close();
        return;
      }
      if (hello.peer_id !== connection.remotePeerId) {
        this.opts.logger.warn(
          { peerId: hello.peer_id, proven: connection.remotePeerId, endpoint: key },
          'peer id claimed without its key; refused',
        );
        await connection.close();
        return;
      }
      this.register(
        connection,
        hello.peer_id,
        hello.name,
        { host: endpoint.host, port: hello.listen_port || endpoint.port },
        hello.proto_version,
      );
    } catch (err) {
      this.opts.logger.debug({ endpoint: key, err: (err as Error).message }, 'dial failed');
    } finally {
      this.dialing.delete(key);
    }
  }

  /** The inbound side of a Hello (called by the protocol server). */
  async onHello(connection: TransportConnection, hello: WireRequestOf<'Hello'>): Promise<WireAnswer> {
    if (hello.peer_id === this.opts.selfId) {
      // Our own Hello came back to us: answer so the dialler learns it is itself, but never register.
      return this.ourHello();
    }
    if (hello.peer_id !== connection.remotePeerId) {
      setTimeout(() => void connection.close(), 100).unref();
      throw new WireError(WireErrorCode.IdentityMismatch, `peer id ${hello.peer_id} is not the one your key proves`);
    }
    this.register(
      connection,
      hello.peer_id,
      hello.name,
      {
        host: connection.remote.host,
        port: hello.listen_port || connection.remote.port,
      },
      hello.proto_version,
    );
    return this.ourHello();
  }

  private ourHello(): WireRequestOf<'Hello'> & WireAnswer {
    return {
      type: 'Hello',
      peer_id: this.opts.selfId,
      proto_version: PROTO_VERSION,
      listen_port: this.opts.listenPort,
      name: this.opts.name(),
    };
  }

  private register(connection: TransportConnection, peerId: string, name: string, endpoint: Endpoint, protoVersion: number): void {
    const existing = this.peers.get(peerId);
    const now = Date.now();
    if (existing) {
      existing.name = name;
      existing.protoVersion = protoVersion;
      existing.lastSeen = now;
      if (existing.connection !== connection) {
        // A restarted peer dials in on a new connection: the old one is dead or about to be.
        existing.connection = connection;
        existing.endpoint = endpoint;
        this.watchClose(peerId, connection);
      }
      return;
    }
    const peer: PeerState = { peerId, name, endpoint, connection, lastSeen: now, rttMs: null, libraryRev: null, protoVersion };
    this.peers.set(peerId, peer);
    this.watchClose(peerId, connection);
    this.opts.logger.info({ peerId, name, endpoint: endpointKey(endpoint) }, 'peer connected');
    this.opts.events.onPeerConnected(this.toApi(peer));
    void this.refreshGames(peer);
  }

  private watchClose(peerId: string, connection: TransportConnection): void {
    void connection.closed.then(() => {
      const peer = this.peers.get(peerId);
      if (peer?.connection === connection) this.drop(peerId, 'connection closed');
    });
  }

  private drop(peerId: string, reason: string): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    void peer.connection.close();
    this.opts.db.removePeer(peerId);
    this.opts.logger.info({ peerId, reason }, 'peer disconnected');
    this.opts.events.onPeerDisconnected(peerId);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.peers.values()].map(async (peer) => {
        const t0 = performance.now();
        try {
          const pong = await request(peer.connection, { type: 'Ping' }, 'Pong', { timeoutMs: this.pingTimeoutMs });
          peer.rttMs = Math.round((performance.now() - t0) * 100) / 100;
          peer.lastSeen = Date.now();
          if (pong.library_rev !== peer.libraryRev) void this.refreshGames(peer);
        } catch (err) {
          this.opts.logger.debug({ peerId: peer.peerId, err: (err as Error).message }, 'ping failed');
          if (now - peer.lastSeen > this.timing.peerTimeoutMs) this.drop(peer.peerId, 'ping timeout');
        }
      }),
    );
  }

  /** a ping must fail fast enough that a dead peer is dropped on time */
  private get pingTimeoutMs(): number {
    return Math.min(this.timing.requestTimeoutMs, Math.max(100, this.timing.peerTimeoutMs / 2));
  }

  private async refreshGames(peer: PeerState): Promise<void> {
    if (this.refreshing.has(peer.peerId)) return;
    this.refreshing.add(peer.peerId);
    try {
      const answer = await request(peer.connection, { type: 'ListGames' }, 'Games', { timeoutMs: this.timing.requestTimeoutMs });
      if (this.peers.get(peer.peerId) !== peer) return;
      peer.libraryRev = answer.library_rev;
      peer.lastSeen = Date.now();
      if (this.opts.db.setGames(peer.peerId, Array.isArray(answer.games) ? answer.games : [])) {
        this.opts.events.onPeerGamesChanged(peer.peerId);
      }
    } catch (err) {
      this.opts.logger.debug({ peerId: peer.peerId, err: (err as Error).message }, 'ListGames failed');
    } finally {
      this.refreshing.delete(peer.peerId);
    }
  }

  private redialStatics(): void {
    for (const endpoint of this.statics.values()) void this.dial(endpoint);
  }

  private toApi(peer: PeerState): PeerBase {
    return {
      peerId: peer.peerId,
      name: peer.name,
      address: endpointKey(peer.endpoint),
      games: this.opts.db.gameCount(peer.peerId),
      lastSeen: new Date(peer.lastSeen).toISOString(),
      rttMs: peer.rttMs,
      protocolVersion: peer.protoVersion,
      compatible: peer.protoVersion === PROTO_VERSION,
    };
  }
}
