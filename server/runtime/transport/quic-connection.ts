// One QUIC connection driven over the transport's shared socket.
//
// Invariants:
// - all quiche work for a connection happens in process(), which the
//   transport calls once per burst of datagrams (and when a stream has work),
//   and in the single per-connection timer, which is re-armed only when
//   quiche's deadline moves earlier (a timer that fires early re-checks);
// - `streams` holds exactly the streams with a direction still open;
// - `closed` resolves once, when the connection stops being usable (the
//   CONNECTION_CLOSE is sent, the peer's arrived, or it timed out); the quiche
//   state may linger a little longer to answer the peer, then it is forgotten.
import type dgram from 'node:dgram';
import { APP_CODE_NO_ERROR, CLOSE_LINGER_MS } from './constants.js';
import { ConnectFailedError, ConnectionClosedError, type CloseReason } from './errors.js';
import { DeadlineTimer } from './deadline-timer.js';
import { spkiFingerprint } from './identity.js';
import { classifyNativeError, type HostPort, type NativeConnection, type RecvInfo } from './native-binding.js';
import { QuicStream, type StreamHost } from './quic-stream.js';
import { StreamIds } from './stream-ids.js';
import { discardStream, pullStream, type ReadSlab } from './stream-reader.js';
import type { ConnectionDirection, Endpoint, TransportConnection, TransportLogger, TransportStream } from './transport.js';

/** What a connection needs from its transport. */
export interface ConnectionHost extends ReadSlab {
  readonly logger: TransportLogger;
  readonly localHostPort: HostPort;
  readonly sendBurstPackets: number;
  readonly streamHighWaterMark: number;
  /** Buffer the next packet is written into, and how to send it. */
  packetBuffer(): Buffer;
  sendPacket(length: number, port: number, host: string): void;
  /** Scratch space for discarding bytes of streams we no longer track. */
  readonly scratch: Buffer;
  markDirty(conn: QuicConnection): void;
  established(conn: QuicConnection): void;
  /** The connection is no longer usable (it may linger to answer the peer). */
  closing(conn: QuicConnection): void;
  /** quiche is done with it: drop every reference. */
  forget(conn: QuicConnection): void;
}

type State = 'handshake' | 'open' | 'closing' | 'closed';

const EMPTY = new Uint8Array(0);
const SHUTDOWN_READ = 0;
const SHUTDOWN_WRITE = 1;

function describe(err: { isApp: boolean; errorCode: number } | null): string {
  if (!err) return 'no error code';
  return `${err.isApp ? 'application' : 'transport'} code 0x${err.errorCode.toString(16)}`;
}

export class QuicConnection implements TransportConnection {
  readonly closed: Promise<void>;
  remoteFingerprint: string | null = null;
  /** Set by the transport while the connection is queued for process(). */
  dirty = false;
  /** Routing keys registered for this connection (our id, the client's original id). */
  routeKeys: number[] = [];
  readonly createdAt = performance.now();

  private state: State = 'handshake';
  private closingSince = 0;
  private closeError: ConnectionClosedError | null = null;
  private resolveClosed!: () => void;
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  private readonly streams = new Map<number, QuicStream>();
  private blocked = new Set<QuicStream>();
  private readonly blockedList: QuicStream[] = [];
  private readonly pendingOpens: { resolve: (s: TransportStream) => void; reject: (err: Error) => void }[] = [];
  private readonly pendingIncoming: QuicStream[] = [];
  private streamHandler: ((s: TransportStream) => void) | null = null;
  private readonly ids: StreamIds;

  private readonly recvInfo: RecvInfo;
  private readonly timer = new DeadlineTimer(() => this.onTimer());
  private readonly streamHost: StreamHost;

  packetsSent = 0;
  recvErrors = 0;

  constructor(
    private readonly host: ConnectionHost,
    readonly q: NativeConnection,
    readonly direction: ConnectionDirection,
    readonly remote: Endpoint,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.ids = new StreamIds(direction === 'outbound');
    this.recvInfo = { from: { host: remote.host, port: remote.port }, to: host.localHostPort };
    this.streamHost = {
      streamSend: (id, data, fin) => this.q.streamSend(id, data, fin),
      streamShutdown: (id, direction, code) => this.shutdown(id, direction, code),
      markDirty: () => this.host.markDirty(this),
      addBlocked: (s) => {
        this.blocked.add(s);
      },
      release: (s) => {
        this.streams.delete(s.id);
        this.blocked.delete(s);
      },
    };
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isHandshaking(): boolean {
    return this.state === 'handshake';
  }

  get isClosed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /** Counters for tests and diagnostics. */
  stats(): { streams: number; blocked: number; pendingIncoming: number; pendingOpens: number; state: State } {
    return {
      streams: this.streams.size,
      blocked: this.blocked.size,
      pendingIncoming: this.pendingIncoming.length,
      pendingOpens: this.pendingOpens.length,
      state: this.state,
    };
  }

  // ---- TransportConnection -------------------------------------------------

  openStream(): Promise<TransportStream> {
    if (this.state === 'closing' || this.state === 'closed') {
      return Promise.reject(this.closeError ?? new ConnectionClosedError('local'));
    }
    if (this.state === 'open' && this.pendingOpens.length === 0) {
      const s = this.tryOpenLocal();
      if (s) return Promise.resolve(s);
    }
    return new Promise((resolve, reject) => {
      this.pendingOpens.push({ resolve, reject });
      this.host.markDirty(this);
    });
  }

  onStream(handler: (stream: TransportStream) => void): void {
    this.streamHandler = handler;
    while (this.pendingIncoming.length > 0 && this.streamHandler === handler) {
      this.emitStream(this.pendingIncoming.shift()!);
    }
  }

  close(): Promise<void> {
    this.closeWith('local');
    return this.closed;
  }

  /** Closes with a CONNECTION_CLOSE to the peer, sent before this returns. */
  closeWith(reason: CloseReason, detail?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.teardown(new ConnectionClosedError(reason, detail));
    try {
      this.q.close(true, APP_CODE_NO_ERROR, EMPTY);
    } catch {
      // already closing inside quiche
    }
    this.process();
  }

  /** Drops the connection without a word to the peer (used when our endpoint vanishes). */
  terminate(reason: CloseReason, detail?: string): void {
    this.teardown(new ConnectionClosedError(reason, detail));
    this.finish();
  }

  /** Resolves when the handshake completes; rejects if the connection closes first. */
  whenEstablished(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state !== 'handshake') {
      return Promise.reject(new ConnectFailedError(`${this.remote.host}:${this.remote.port}`, 'closed'));
    }
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  // ---- driven by the transport ---------------------------------------------

  /** One datagram addressed to this connection. */
  receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let info = this.recvInfo;
    if (rinfo.port !== this.remote.port || rinfo.address !== this.remote.host) {
      info = { from: { host: rinfo.address, port: rinfo.port }, to: this.host.localHostPort };
    }
    try {
      this.q.recv(msg, info);
    } catch {
      // Undecryptable or malformed packets are dropped by quiche; anything
      // fatal shows up as a closed/draining connection in process().
      this.recvErrors++;
    }
    this.host.markDirty(this);
  }

  keepAlive(): void {
    if (this.state !== 'open') return;
    try {
      this.q.sendAckEliciting();
    } catch {
      return;
    }
    this.host.markDirty(this);
  }

  /** Runs everything pending: handshake completion, reads, blocked writes, opens, packets, timer. */
  process(): void {
    if (this.state === 'closed') return;
    const q = this.q;
    if (this.state === 'handshake' && q.isEstablished()) this.onEstablished();
    if (this.state === 'open') {
      this.readStreams();
      if (this.blocked.size > 0) this.resumeBlocked();
      if (this.pendingOpens.length > 0) this.grantOpens();
    }
    this.sendPackets();
    if (q.isClosed()) {
      this.finish();
      return;
    }
    if ((this.state === 'open' || this.state === 'handshake') && q.isDraining()) {
      this.teardown(this.closeErrorFromQuiche());
    }
    this.armTimer();
  }

  // ---- internals -----------------------------------------------------------

  private onEstablished(): void {
    const leaf = this.q.peerCertChain()?.[0];
    if (leaf) {
      try {
        this.remoteFingerprint = spkiFingerprint(leaf);
      } catch (err) {
        this.host.logger.warn({ err, remote: this.remote }, 'peer certificate unreadable');
      }
    }
    if (this.remoteFingerprint === null) {
      // Mutual TLS is required; a peer without a usable certificate has no identity.
      this.closeWith('error', 'peer presented no usable certificate');
      return;
    }
    this.state = 'open';
    for (const w of this.readyWaiters.splice(0)) w.resolve();
    this.host.established(this);
  }

  private tryOpenLocal(): QuicStream | null {
    if (this.q.peerStreamsLeftBidi() <= 0) return null;
    const id = this.ids.peekLocal();
    try {
      // A zero-length write creates the stream in quiche, so the peer's
      // stream limit counts it from now on.
      this.q.streamSend(id, EMPTY, false);
    } catch (err) {
      if (classifyNativeError(err).kind === 'stream_limit') return null;
      throw err;
    }
    this.ids.takeLocal();
    const s = new QuicStream(id, this.streamHost, this.host.streamHighWaterMark);
    this.streams.set(id, s);
    return s;
  }

  private grantOpens(): void {
    while (this.pendingOpens.length > 0 && this.state === 'open') {
      const s = this.tryOpenLocal();
      if (!s) return;
      this.pendingOpens.shift()!.resolve(s);
    }
  }

  private readStreams(): void {
    for (const id of this.q.readable()) {
      if (this.state !== 'open') return;
      let s = this.streams.get(id);
      if (s === undefined) {
        if (!this.ids.isRemote(id) || !this.ids.markRemoteSeen(id)) {
          discardStream(this.q, id, this.host.scratch);
          continue;
        }
        s = new QuicStream(id, this.streamHost, this.host.streamHighWaterMark);
        this.streams.set(id, s);
        if (this.streamHandler) this.emitStream(s);
        else this.pendingIncoming.push(s);
      }
      if (s.wantRead && !s.destroyed) pullStream(this.q, s, this.host);
    }
  }

  private emitStream(s: QuicStream): void {
    try {
      this.streamHandler!(s);
    } catch (err) {
      this.host.logger.error({ err }, 'stream handler threw');
      s.destroy();
    }
  }

  private resumeBlocked(): void {
    const list = this.blockedList;
    for (const s of this.blocked) list.push(s);
    this.blocked.clear();
    for (const s of list) {
      if (!s.destroyed && this.state === 'open') s.pumpWrite();
    }
    list.length = 0;
  }

  private shutdown(id: number, direction: 'read' | 'write', code: number): void {
    if (this.state !== 'open') return;
    try {
      this.q.streamShutdown(id, direction === 'read' ? SHUTDOWN_READ : SHUTDOWN_WRITE, code);
    } catch {
      // the stream is already finished in that direction
    }
  }

  private sendPackets(): void {
    const host = this.host;
    const budget = host.sendBurstPackets;
    const { port, host: addr } = this.remote;
    let n = 0;
    try {
      while (n < budget) {
        const r = this.q.send(host.packetBuffer());
        if (r === null) break;
        host.sendPacket(r[0], port, addr);
        n++;
      }
    } catch (err) {
      host.logger.debug({ err, remote: this.remote }, 'quiche send failed');
    }
    this.packetsSent += n;
    // More is ready than one burst: yield to the event loop (ACKs arrive) and continue.
    if (n === budget) host.markDirty(this);
  }

  private armTimer(): void {
    let t = this.q.timeout();
    if (this.state === 'closing') {
      const left = Math.max(0, CLOSE_LINGER_MS - (performance.now() - this.closingSince));
      t = t === null ? left : Math.min(t, left);
    }
    if (t === null) this.timer.clear();
    else this.timer.arm(t);
  }

  private onTimer(): void {
    if (this.state === 'closed') return;
    if (this.state === 'closing' && performance.now() - this.closingSince >= CLOSE_LINGER_MS) {
      this.finish();
      return;
    }
    const t = this.q.timeout();
    if (t !== null && t > 0) {
      // The deadline moved later since the timer was set.
      this.armTimer();
      return;
    }
    this.q.onTimeout();
    this.process();
  }

  private closeErrorFromQuiche(): ConnectionClosedError {
    if (this.q.isTimedOut()) return new ConnectionClosedError('idle_timeout');
    const peer = this.q.peerError();
    if (peer) return new ConnectionClosedError('peer', describe(peer));
    const local = this.q.localError();
    if (local) return new ConnectionClosedError('error', describe(local));
    return new ConnectionClosedError('peer');
  }

  /** The connection is no longer usable: fail everything waiting on it, resolve `closed`. */
  private teardown(err: ConnectionClosedError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const wasHandshake = this.state === 'handshake';
    this.state = 'closing';
    this.closingSince = performance.now();
    this.closeError = err;
    if (wasHandshake) {
      const local = this.q.localError();
      const peer = this.q.peerError();
      const detail = peer ? `peer closed (${describe(peer)})` : local ? `handshake failed (${describe(local)})` : err.message;
      const failure = new ConnectFailedError(`${this.remote.host}:${this.remote.port}`, detail, { cause: err });
      for (const w of this.readyWaiters.splice(0)) w.reject(failure);
    }
    for (const p of this.pendingOpens.splice(0)) p.reject(err);
    this.pendingIncoming.length = 0;
    for (const s of [...this.streams.values()]) s.abandon(err);
    this.streams.clear();
    this.blocked.clear();
    this.host.closing(this);
    this.resolveClosed();
  }

  /** quiche is done with the connection: forget it. */
  private finish(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'closing') this.teardown(this.closeErrorFromQuiche());
    this.state = 'closed';
    this.timer.clear();
    this.host.forget(this);
  }
}
