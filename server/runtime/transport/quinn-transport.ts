// QUIC transport on quinn (Rust, through `@chainsafe/libp2p-quic`'s native
// layer). quinn runs TLS 1.3, congestion control and UDP (with GSO/GRO) on its
// own threads; JavaScript sees only whole connections, streams and large
// buffers.
//
// Invariants:
// - the listening endpoint accepts; dials leave from a client endpoint of
//   their own (quinn binds one per address family), so an accepted
//   connection is never reused for a dial: peers are matched by peer id above;
// - at most one dialled connection per remote endpoint (concurrent dials share
//   one attempt); a dial that outlives the connect timeout is abandoned and, if
//   it completes later, closed;
// - connections over the per-address or total limit are closed as they are
//   accepted, before any handler sees them; several handshakes are awaited at
//   once, so a silent client cannot hold up the others.
import dns from 'node:dns/promises';
import net from 'node:net';
import {
  ACCEPT_CONCURRENCY,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONNECTION_WINDOW_BYTES,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  DEFAULT_SOCKET_BUFFER_BYTES,
  DEFAULT_STREAM_HIGH_WATER_MARK,
  DEFAULT_STREAM_WINDOW_BYTES,
} from './constants.js';
import { BindFailedError, ConnectFailedError, ConnectTimeoutError, InvalidTransportOptionsError, TransportClosedError } from './errors.js';
import type { Identity } from './identity.js';
import {
  loadQuinn,
  type NativeClient,
  type NativeConfig,
  type NativeEndpointStats,
  type NativeServer,
  type QuinnNative,
} from './quinn-native.js';
import { QuinnConnection, type ConnectionHost } from './quinn-connection.js';
import type { Endpoint, Transport, TransportConnection, TransportLogger, TransportOptions } from './transport.js';

export interface QuinnTransportOptions extends TransportOptions {
  identity: Identity;
}

export interface QuinnTransportStats {
  connections: number;
  streams: number;
  /** Handshakes quinn completed on the listening endpoint. */
  acceptedHandshakes: number;
  /** Connections closed at accept for being over a limit. */
  refusedConnections: number;
}

const silent: TransportLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Settings {
  host: string;
  port: number;
  idleTimeoutMs: number;
  keepAliveIntervalMs: number;
  connectTimeoutMs: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
  maxStreamsPerConnection: number;
  streamHighWaterMark: number;
  streamWindowBytes: number;
  connectionWindowBytes: number;
  socketBufferBytes: number;
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0 || value > 0xffff_ffff) {
    throw new InvalidTransportOptionsError(`${name} must be a positive integer (got ${value})`);
  }
  return value;
}

function resolveSettings(o: QuinnTransportOptions): Settings {
  if (!o.identity?.privateKeyProto) throw new InvalidTransportOptionsError('an identity (the node key) is required');
  const s: Settings = {
    host: o.host ?? DEFAULT_HOST,
    port: o.port ?? 0,
    idleTimeoutMs: positive('idleTimeoutMs', o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS),
    keepAliveIntervalMs: positive('keepAliveIntervalMs', o.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_INTERVAL_MS),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    maxConnectionsPerAddress: positive('maxConnectionsPerAddress', o.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    maxConnections: positive('maxConnections', o.maxConnections ?? DEFAULT_MAX_CONNECTIONS),
    maxStreamsPerConnection: positive('maxStreamsPerConnection', o.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS_PER_CONNECTION),
    streamHighWaterMark: positive('streamHighWaterMark', o.streamHighWaterMark ?? DEFAULT_STREAM_HIGH_WATER_MARK),
    streamWindowBytes: positive('streamWindowBytes', o.streamWindowBytes ?? DEFAULT_STREAM_WINDOW_BYTES),
    connectionWindowBytes: positive('connectionWindowBytes', o.connectionWindowBytes ?? DEFAULT_CONNECTION_WINDOW_BYTES),
    socketBufferBytes: positive('socketBufferBytes', o.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES),
  };
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw new InvalidTransportOptionsError(`invalid port ${s.port}`);
  if (!net.isIP(s.host)) throw new InvalidTransportOptionsError(`bind address must be an IP address (got "${s.host}")`);
  if (s.keepAliveIntervalMs >= s.idleTimeoutMs) {
    throw new InvalidTransportOptionsError('keepAliveIntervalMs must be shorter than idleTimeoutMs');
  }
  return s;
}

const toNumber = (v: number | bigint | undefined): number => Number(v ?? 0);

export class QuinnTransport implements Transport, ConnectionHost {
  readonly logger: TransportLogger;
  readonly streamHighWaterMark: number;
  private readonly settings: Settings;
  private readonly q: QuinnNative;
  private readonly config: NativeConfig;
  private server: NativeServer | null = null;
  private readonly clients = new Map<4 | 6, NativeClient>();
  private bound: Endpoint | null = null;
  private closedFlag = false;

  private readonly connections = new Set<QuinnConnection>();
  private readonly dialled = new Map<string, QuinnConnection>();
  private readonly dialing = new Map<string, Promise<QuinnConnection>>();
  private readonly perAddress = new Map<string, number>();
  private readonly handlers = new Set<(c: TransportConnection) => void>();
  private refusedConnections = 0;

  constructor(options: QuinnTransportOptions) {
    this.settings = resolveSettings(options);
    this.logger = options.logger ?? silent;
    this.streamHighWaterMark = this.settings.streamHighWaterMark;
    this.q = loadQuinn();
    this.config = this.makeConfig(options.identity);
  }

  private makeConfig(identity: Identity): NativeConfig {
    const s = this.settings;
    try {
      return new this.q.QuinnConfig({
        privateKeyProto: identity.privateKeyProto,
        handshakeTimeout: s.connectTimeoutMs,
        maxIdleTimeout: s.idleTimeoutMs,
        keepAliveInterval: s.keepAliveIntervalMs,
        maxConcurrentStreamLimit: s.maxStreamsPerConnection,
        maxStreamData: s.streamWindowBytes,
        maxConnectionData: s.connectionWindowBytes,
        receiveBufferSize: s.socketBufferBytes,
        sendBufferSize: s.socketBufferBytes,
      });
    } catch (err) {
      throw new InvalidTransportOptionsError(`the node key is unusable: ${(err as Error).message}`);
    }
  }

  // ---- Transport -----------------------------------------------------------

  listen(): Promise<Endpoint> {
    if (this.closedFlag) return Promise.reject(new TransportClosedError());
    if (this.bound) return Promise.resolve({ ...this.bound });
    const { host, port } = this.settings;
    try {
      this.server = new this.q.Server(this.config, host, port);
    } catch (err) {
      return Promise.reject(new BindFailedError(host, port, errnoCause(err)));
    }
    this.bound = { host, port: this.server.port() };
    for (let i = 0; i < ACCEPT_CONCURRENCY; i++) void this.acceptLoop(this.server);
    return Promise.resolve({ ...this.bound });
  }

  onConnection(handler: (connection: TransportConnection) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async connect(to: Endpoint): Promise<TransportConnection> {
    if (this.closedFlag) throw new TransportClosedError();
    const ip = await resolveHost(to.host);
    const key = `${ip}:${to.port}`;
    const live = this.dialled.get(key);
    if (live?.isOpen) return live;
    let pending = this.dialing.get(key);
    if (!pending) {
      pending = this.dial(ip, to.port, key).finally(() => this.dialing.delete(key));
      this.dialing.set(key, pending);
    }
    return pending;
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const c of [...this.connections]) c.closeWith('transport_closed');
    for (const client of this.clients.values()) client.abort();
    this.clients.clear();
    const server = this.server;
    this.server = null;
    await server?.abort();
  }

  /** The bound listening address, or null before listen(). */
  get endpoint(): Endpoint | null {
    return this.bound ? { ...this.bound } : null;
  }

  stats(): QuinnTransportStats {
    let streams = 0;
    for (const c of this.connections) streams += c.stats().streams;
    const server: NativeEndpointStats = this.server?.stats() ?? {};
    return {
      connections: this.connections.size,
      streams,
      acceptedHandshakes: toNumber(server.acceptedHandshakes),
      refusedConnections: this.refusedConnections,
    };
  }

  /** Live connections (tests and diagnostics). */
  listConnections(): QuinnConnection[] {
    return [...this.connections];
  }

  // ---- ConnectionHost ------------------------------------------------------

  forget(conn: QuinnConnection): void {
    if (!this.connections.delete(conn)) return;
    const n = (this.perAddress.get(conn.remote.host) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(conn.remote.host);
    else this.perAddress.set(conn.remote.host, n);
    for (const [key, c] of this.dialled) if (c === conn) this.dialled.delete(key);
  }

  // ---- internals -----------------------------------------------------------

  private async acceptLoop(server: NativeServer): Promise<void> {
    while (!this.closedFlag && this.server === server) {
      let native;
      try {
        native = await server.inboundConnection();
      } catch (err) {
        // A handshake that failed (bad certificate, timed out) or the endpoint closing.
        if (this.closedFlag || this.server !== server) return;
        this.logger.debug({ err: (err as Error).message }, 'inbound handshake failed');
        continue;
      }
      const conn = new QuinnConnection(this, native, 'inbound');
      const refusal = this.overLimit(conn.remote.host);
      if (refusal || this.closedFlag) {
        this.refusedConnections++;
        this.logger.debug({ from: conn.remote.host, refusal }, 'inbound connection refused');
        this.register(conn);
        conn.closeWith('error', refusal ?? 'transport closed');
        continue;
      }
      this.register(conn);
      for (const handler of this.handlers) {
        try {
          handler(conn);
        } catch (err) {
          this.logger.error({ err }, 'connection handler threw');
        }
      }
    }
  }

  private overLimit(ip: string): string | null {
    if (this.connections.size >= this.settings.maxConnections) return `connection limit reached (${this.settings.maxConnections})`;
    if ((this.perAddress.get(ip) ?? 0) >= this.settings.maxConnectionsPerAddress) return `too many connections with ${ip}`;
    return null;
  }

  private register(conn: QuinnConnection): void {
    this.connections.add(conn);
    this.perAddress.set(conn.remote.host, (this.perAddress.get(conn.remote.host) ?? 0) + 1);
  }

  private client(family: 4 | 6): NativeClient {
    let client = this.clients.get(family);
    if (!client) {
      try {
        client = new this.q.Client(this.config, family === 4 ? this.q.SocketFamily.Ipv4 : this.q.SocketFamily.Ipv6);
      } catch (err) {
        throw new ConnectFailedError(`IPv${family}`, 'cannot open a client endpoint', { cause: err });
      }
      this.clients.set(family, client);
    }
    return client;
  }

  private async dial(ip: string, port: number, key: string): Promise<QuinnConnection> {
    const target = `${ip}:${port}`;
    const refusal = this.overLimit(ip);
    if (refusal) throw new ConnectFailedError(target, refusal);
    const attempt = this.client(net.isIPv6(ip) ? 6 : 4).outboundConnection(ip, port);
    const ms = this.settings.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new ConnectTimeoutError(target, ms));
      }, ms);
    });
    // A dial abandoned by the timeout (or by close()) that completes later is closed at once.
    void attempt.then(
      (native) => {
        if (timedOut || this.closedFlag) native.abort();
      },
      () => undefined,
    );
    let native;
    try {
      native = await Promise.race([attempt, timeout]);
    } catch (err) {
      if (err instanceof ConnectTimeoutError) throw err;
      throw new ConnectFailedError(target, (err as Error).message, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    if (this.closedFlag) {
      native.abort();
      throw new TransportClosedError();
    }
    const conn = new QuinnConnection(this, native, 'outbound');
    this.register(conn);
    this.dialled.set(key, conn);
    return conn;
  }
}

async function resolveHost(host: string): Promise<string> {
  if (net.isIP(host)) return host;
  try {
    return (await dns.lookup(host)).address;
  } catch (err) {
    throw new ConnectFailedError(host, 'cannot resolve host', { cause: err });
  }
}

/** quinn reports bind failures as text ("Address already in use (os error 98)"); keep the errno for callers. */
function errnoCause(err: unknown): unknown {
  const message = (err as Error)?.message ?? String(err);
  const code = /already in use|os error (98|48|10048)\b/i.test(message)
    ? 'EADDRINUSE'
    : /cannot assign|os error (99|49)\b/i.test(message)
      ? 'EADDRNOTAVAIL'
      : /permission denied|os error 13\b/i.test(message)
        ? 'EACCES'
        : undefined;
  return code ? Object.assign(new Error(message), { code }) : err;
}
