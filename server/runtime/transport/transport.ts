// The contract every transport keeps (QUIC for real nodes, memory for tests):
// a node accepts on its listening endpoint and dials from its own; there is at
// most one dialled connection per remote endpoint (connect() reuses a live
// one); each connection knows the peer id the other side proved; a
// connection carries any number of independent bidirectional byte streams,
// each a node Duplex with backpressure in both directions; every connection
// eventually resolves `closed`, whatever ends it (close, peer close, idle
// timeout of a silent peer, error).
import type { Duplex } from 'node:stream';
import type { Identity } from './identity.js';

/** A UDP/IP address (or a memory-network address) of a transport endpoint. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * One bidirectional stream. `write()` returns false while the peer's flow
 * control does not take more and `'drain'` follows when it does; the readable
 * side stops taking bytes from the transport while nobody consumes them, so a
 * slow reader throttles the sender. `end()` finishes the sending direction
 * (the peer sees `'end'`); `destroy()` aborts both directions (the peer's
 * stream fails with code `stream_reset`).
 */
export interface TransportStream extends Duplex {
  /** Stream id, unique within its connection. */
  readonly id: number;
}

export type ConnectionDirection = 'inbound' | 'outbound';

export interface TransportConnection {
  readonly remote: Endpoint;
  /** The peer id the other side proved in the handshake (derived from its key), or null if it proved none. */
  readonly remotePeerId: string | null;
  readonly direction: ConnectionDirection;
  /** Opens a stream; waits while the peer's stream limit is reached. Rejects once the connection is closed. */
  openStream(): Promise<TransportStream>;
  /** Sets the handler for streams the peer opens (replaces any previous one). Streams that arrive before a handler is set are held for it. */
  onStream(handler: (stream: TransportStream) => void): void;
  /** Closes the connection; open streams fail with code `connection_closed`. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the connection is closed for any reason; never rejects. */
  readonly closed: Promise<void>;
}

export interface Transport {
  /** Binds (if not yet bound) and starts accepting connections; resolves the bound address. Idempotent. */
  listen(): Promise<Endpoint>;
  /** Dials `to`, or returns the live connection this transport already dialled to that endpoint. */
  connect(to: Endpoint): Promise<TransportConnection>;
  /** Adds a handler for accepted (inbound) connections, called once the handshake is done; returns its removal. */
  onConnection(handler: (connection: TransportConnection) => void): () => void;
  /** Closes every connection and the endpoint. Idempotent. */
  close(): Promise<void>;
}

/** A pino-compatible logger shape; the transport logs only at debug/warn/error. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options every transport understands. Every timing knob is injectable so tests run fast. */
export interface TransportOptions {
  /** Address to bind; default `0.0.0.0`. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** This node's key and the peer id derived from it. */
  identity?: Identity;
  /** A connection with no packet from the peer for this long is closed. */
  idleTimeoutMs?: number;
  /** A keep-alive is sent this often so that idle-but-alive peers stay connected and dead ones are noticed. */
  keepAliveIntervalMs?: number;
  /** connect() gives up after this long; inbound handshakes are dropped after it too. */
  connectTimeoutMs?: number;
  /** Most connections from one remote IP address (dial and accept together). */
  maxConnectionsPerAddress?: number;
  /** Most connections in total. */
  maxConnections?: number;
  /** Most concurrently open streams the peer may open on one connection. */
  maxStreamsPerConnection?: number;
  /** Buffering of each stream's Duplex, in bytes, per direction. */
  streamHighWaterMark?: number;
  /** Bytes a peer may send on one stream, and on one connection, before we read them (flow-control windows). */
  streamWindowBytes?: number;
  connectionWindowBytes?: number;
  /** SO_RCVBUF/SO_SNDBUF request; the kernel caps it. */
  socketBufferBytes?: number;
  logger?: TransportLogger;
}
