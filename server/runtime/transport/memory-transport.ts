// The in-memory twin of the QUIC transport, for fast tests of everything
// above the transport. Nodes live in a MemoryNetwork (one per test, or the
// shared default) under host "memory" and a port number. It keeps the same
// contract as QUIC (see transport.ts and the compliance suite): connection
// reuse per endpoint, per-connection stream limit, backpressure, FIN/reset
// semantics, the peer ids of the configured identities, and a peer that
// vanishes (abort()) is noticed only after the idle timeout. Every delivery
// can be delayed by `latencyMs`.
import { ConnectFailedError, ConnectionClosedError, ConnectionLimitError, TransportClosedError } from './errors.js';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  DEFAULT_STREAM_HIGH_WATER_MARK,
} from './constants.js';
import { MemoryStream, type Deliver } from './memory-stream.js';
import type { ConnectionDirection, Endpoint, Transport, TransportConnection, TransportOptions, TransportStream } from './transport.js';

export const MEMORY_HOST = 'memory';

/** A set of in-process nodes that can reach each other. */
export class MemoryNetwork {
  private readonly nodes = new Map<number, MemoryTransport>();
  private nextPort = 40_000;

  /** @internal */
  attach(node: MemoryTransport, port: number): number {
    let p = port;
    if (p === 0) {
      while (this.nodes.has(this.nextPort)) this.nextPort++;
      p = this.nextPort++;
    } else if (this.nodes.has(p)) {
      throw new ConnectFailedError(`${MEMORY_HOST}:${p}`, 'address in use');
    }
    this.nodes.set(p, node);
    return p;
  }

  /** @internal */
  detach(port: number, node: MemoryTransport): void {
    if (this.nodes.get(port) === node) this.nodes.delete(port);
  }

  /** @internal */
  lookup(port: number): MemoryTransport | undefined {
    return this.nodes.get(port);
  }
}

export const defaultMemoryNetwork = new MemoryNetwork();

export interface MemoryTransportOptions extends TransportOptions {
  network?: MemoryNetwork;
  /** Delay of every delivery (stream data, opens, closes), in ms. */
  latencyMs?: number;
}

class MemoryConnection implements TransportConnection {
  peer!: MemoryConnection;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private closeError: ConnectionClosedError | null = null;
  private readonly streams = new Set<MemoryStream>();
  private openedByUs = 0;
  private nextStreamId: number;
  private handler: ((s: TransportStream) => void) | null = null;
  private readonly pendingIncoming: MemoryStream[] = [];
  private readonly pendingOpens: { resolve: (s: TransportStream) => void; reject: (e: Error) => void }[] = [];
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly owner: MemoryTransport,
    readonly remote: Endpoint,
    readonly remotePeerId: string | null,
    readonly direction: ConnectionDirection,
  ) {
    this.nextStreamId = direction === 'outbound' ? 0 : 1;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get isOpen(): boolean {
    return this.closeError === null;
  }

  openStream(): Promise<TransportStream> {
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise((resolve, reject) => {
      this.pendingOpens.push({ resolve, reject });
      this.grantOpens();
    });
  }

  onStream(handler: (s: TransportStream) => void): void {
    this.handler = handler;
    while (this.pendingIncoming.length > 0 && this.handler === handler) this.emit(this.pendingIncoming.shift()!);
  }

  close(): Promise<void> {
    if (this.closeError) return this.closed;
    this.teardown(new ConnectionClosedError('local'));
    const peer = this.peer;
    this.owner.deliver(() => peer.teardown(new ConnectionClosedError('peer', 'application code 0x0')));
    return this.closed;
  }

  /** The peer's node vanished: we notice only when the idle timeout runs out. */
  peerVanished(): void {
    if (this.closeError || this.idleTimer) return;
    this.idleTimer = setTimeout(() => this.teardown(new ConnectionClosedError('idle_timeout')), this.owner.idleTimeoutMs);
  }

  teardown(err: ConnectionClosedError, silent = false): void {
    if (this.closeError) return;
    this.closeError = err;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const p of this.pendingOpens.splice(0)) p.reject(err);
    this.pendingIncoming.length = 0;
    for (const s of [...this.streams]) s.abandon(err, silent);
    this.streams.clear();
    this.owner.forget(this);
    this.resolveClosed();
  }

  stats(): { streams: number } {
    return { streams: this.streams.size };
  }

  /** A stream the peer opened. */
  incoming(s: MemoryStream): void {
    if (this.closeError) {
      s.abandon(this.closeError, false);
      return;
    }
    this.track(s, false);
    if (this.handler) this.emit(s);
    else this.pendingIncoming.push(s);
  }

  private grantOpens(): void {
    while (this.pendingOpens.length > 0 && !this.closeError && this.openedByUs < this.peer.owner.maxStreamsPerConnection) {
      const id = this.nextStreamId;
      this.nextStreamId += 4;
      const [mine, theirs] = MemoryStream.pair(id, this.owner.deliver, this.owner.streamHighWaterMark);
      this.track(mine, true);
      const peer = this.peer;
      this.owner.deliver(() => peer.incoming(theirs));
      this.pendingOpens.shift()!.resolve(mine);
    }
  }

  private track(s: MemoryStream, local: boolean): void {
    this.streams.add(s);
    if (local) this.openedByUs++;
    s.onDone = () => {
      this.streams.delete(s);
      if (local) {
        // The peer grants a new stream once this one is done on its side too.
        this.owner.deliver(() => {
          this.openedByUs--;
          this.grantOpens();
        });
      }
    };
  }

  private emit(s: MemoryStream): void {
    try {
      this.handler!(s);
    } catch {
      s.destroy();
    }
  }
}

export class MemoryTransport implements Transport {
  readonly network: MemoryNetwork;
  readonly idleTimeoutMs: number;
  readonly maxStreamsPerConnection: number;
  readonly streamHighWaterMark: number;
  readonly peerId: string | null;
  readonly deliver: Deliver;
  private readonly maxConnections: number;
  private port: number | null = null;
  private accepting = false;
  private closedFlag = false;
  private readonly handlers = new Set<(c: TransportConnection) => void>();
  private readonly connections = new Set<MemoryConnection>();
  private readonly byEndpoint = new Map<number, MemoryConnection>();

  constructor(private readonly options: MemoryTransportOptions = {}) {
    this.network = options.network ?? defaultMemoryNetwork;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.maxStreamsPerConnection = options.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS_PER_CONNECTION;
    this.streamHighWaterMark = options.streamHighWaterMark ?? DEFAULT_STREAM_HIGH_WATER_MARK;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.peerId = options.identity?.peerId ?? null;
    const latency = options.latencyMs ?? 0;
    this.deliver = latency > 0 ? (fn) => void setTimeout(fn, latency) : (fn) => void setImmediate(fn);
  }

  get endpoint(): Endpoint | null {
    return this.port === null ? null : { host: MEMORY_HOST, port: this.port };
  }

  async listen(): Promise<Endpoint> {
    const e = this.bind();
    this.accepting = true;
    return e;
  }

  onConnection(handler: (c: TransportConnection) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async connect(to: Endpoint): Promise<TransportConnection> {
    const local = this.bind();
    const live = this.byEndpoint.get(to.port);
    if (live?.isOpen && to.host === MEMORY_HOST) return live;
    if (this.connections.size >= this.maxConnections) throw new ConnectionLimitError(`connection limit reached (${this.maxConnections})`);
    await new Promise<void>((resolve) => this.deliver(resolve));
    const again = this.byEndpoint.get(to.port);
    if (again?.isOpen) return again;
    const target = to.host === MEMORY_HOST ? this.network.lookup(to.port) : undefined;
    if (!target || !target.accepting || target.closedFlag) {
      throw new ConnectFailedError(`${to.host}:${to.port}`, 'nobody listening');
    }
    if (this.closedFlag) throw new TransportClosedError();
    const mine = new MemoryConnection(this, { host: MEMORY_HOST, port: to.port }, target.peerId, 'outbound');
    const theirs = new MemoryConnection(target, local, this.peerId, 'inbound');
    mine.peer = theirs;
    theirs.peer = mine;
    this.connections.add(mine);
    this.byEndpoint.set(to.port, mine);
    target.accept(theirs);
    return mine;
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.accepting = false;
    await Promise.all([...this.connections].map((c) => c.close()));
    if (this.port !== null) this.network.detach(this.port, this);
  }

  /** Vanishes without telling any peer, as a crashed or unplugged node would. */
  async abort(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.accepting = false;
    for (const c of [...this.connections]) {
      c.peer.peerVanished();
      c.teardown(new ConnectionClosedError('transport_closed'), true);
    }
    if (this.port !== null) this.network.detach(this.port, this);
  }

  listConnections(): MemoryConnection[] {
    return [...this.connections];
  }

  /** @internal */
  forget(c: MemoryConnection): void {
    this.connections.delete(c);
    if (this.byEndpoint.get(c.remote.port) === c) this.byEndpoint.delete(c.remote.port);
  }

  private accept(c: MemoryConnection): void {
    this.connections.add(c);
    this.byEndpoint.set(c.remote.port, c);
    for (const h of this.handlers) {
      try {
        h(c);
      } catch {
        // a failing handler must not break the dial
      }
    }
  }

  private bind(): Endpoint {
    if (this.closedFlag) throw new TransportClosedError();
    if (this.port === null) this.port = this.network.attach(this, this.options.port ?? 0);
    return { host: MEMORY_HOST, port: this.port };
  }
}
