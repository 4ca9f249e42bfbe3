// One QUIC connection over quinn's native connection.
//
// Invariants:
// - `remotePeerId` is derived from the key the peer proved in the handshake
//   (the libp2p TLS certificate), never from anything the peer says later;
// - the peer's streams are accepted from the moment the connection exists and
//   held until a handler is set, so none is lost to a late onStream();
// - `streams` holds exactly the streams with a direction still open;
// - `closed` resolves once, whatever ends the connection (our close, the
//   peer's, the idle timeout, the transport closing), and every stream still
//   open fails with `connection_closed`.
import { ConnectionClosedError, type CloseReason } from './errors.js';
import { peerIdFromLibp2p } from './identity.js';
import { classifyNative, type NativeConnection } from './quinn-native.js';
import { QuinnStream, type StreamOwner } from './quinn-stream.js';
import type { ConnectionDirection, Endpoint, TransportConnection, TransportLogger, TransportStream } from './transport.js';

/** What a connection needs from its transport. */
export interface ConnectionHost {
  readonly logger: TransportLogger;
  readonly streamHighWaterMark: number;
  /** The connection is closed: drop every reference to it. */
  forget(conn: QuinnConnection): void;
}

/** Parses `/ip4/<ip>/udp/<port>/quic-v1/p2p/<id>` (ip6 alike). */
export function parseRemote(multiaddr: string): { endpoint: Endpoint; libp2pId: string | null } {
  const parts = multiaddr.split('/');
  const host = parts[2] ?? '';
  const port = Number(parts[4]);
  const p2p = parts.indexOf('p2p');
  return { endpoint: { host, port: Number.isInteger(port) ? port : 0 }, libp2pId: p2p > 0 ? (parts[p2p + 1] ?? null) : null };
}

export class QuinnConnection implements TransportConnection, StreamOwner {
  readonly remote: Endpoint;
  readonly remotePeerId: string | null;
  readonly closed: Promise<void>;

  private closeErr: ConnectionClosedError | null = null;
  private resolveClosed!: () => void;
  private readonly streams = new Set<QuinnStream>();
  private readonly pendingIncoming: QuinnStream[] = [];
  private streamHandler: ((s: TransportStream) => void) | null = null;

  constructor(
    private readonly host: ConnectionHost,
    readonly native: NativeConnection,
    readonly direction: ConnectionDirection,
  ) {
    const { endpoint, libp2pId } = parseRemote(native.remoteMultiaddr());
    this.remote = endpoint;
    this.remotePeerId = libp2pId ? peerIdFromLibp2p(libp2pId) : null;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    native.closed().then(
      () => this.onClosed('peer'),
      () => this.onClosed('error'),
    );
    void this.acceptStreams();
  }

  get isOpen(): boolean {
    return this.closeErr === null;
  }

  rttMs(): number {
    return this.native.rtt();
  }

  stats(): { streams: number; pendingIncoming: number } {
    return { streams: this.streams.size, pendingIncoming: this.pendingIncoming.length };
  }

  async openStream(): Promise<TransportStream> {
    if (this.closeErr) throw this.closeErr;
    let native;
    try {
      native = await this.native.outboundStream();
    } catch (err) {
      throw classifyNative(err, this.closeErr);
    }
    if (this.closeErr) throw this.closeErr;
    return this.track(new QuinnStream(native, this, this.host.streamHighWaterMark));
  }

  onStream(handler: (stream: TransportStream) => void): void {
    this.streamHandler = handler;
    while (this.pendingIncoming.length > 0 && this.streamHandler === handler) this.emitStream(this.pendingIncoming.shift()!);
  }

  close(): Promise<void> {
    this.closeWith('local');
    return this.closed;
  }

  /** Closes with a reason (the transport closing, a limit). Idempotent. */
  closeWith(reason: CloseReason, detail?: string): void {
    if (this.closeErr) return;
    try {
      this.native.abort();
    } catch {
      // already gone
    }
    this.onClosed(reason, detail);
  }

  // ---- StreamOwner ---------------------------------------------------------

  closeError(): ConnectionClosedError | null {
    return this.closeErr;
  }

  streamGone(stream: QuinnStream): void {
    this.streams.delete(stream);
  }

  // ---- internals -----------------------------------------------------------

  private track(stream: QuinnStream): QuinnStream {
    this.streams.add(stream);
    return stream;
  }

  private async acceptStreams(): Promise<void> {
    while (!this.closeErr) {
      let native;
      try {
        native = await this.native.inboundStream();
      } catch {
        return; // the connection is closing; closed() reports why
      }
      const stream = this.track(new QuinnStream(native, this, this.host.streamHighWaterMark));
      if (this.streamHandler) this.emitStream(stream);
      else this.pendingIncoming.push(stream);
    }
  }

  private emitStream(stream: QuinnStream): void {
    try {
      this.streamHandler!(stream);
    } catch (err) {
      this.host.logger.error({ err }, 'stream handler threw');
      stream.destroy();
    }
  }

  private onClosed(reason: CloseReason, detail?: string): void {
    if (this.closeErr) return;
    this.closeErr = new ConnectionClosedError(reason, detail);
    for (const s of [...this.streams]) s.fail(this.closeErr);
    this.streams.clear();
    for (const s of this.pendingIncoming.splice(0)) s.destroy();
    this.host.forget(this);
    this.resolveClosed();
  }
}
