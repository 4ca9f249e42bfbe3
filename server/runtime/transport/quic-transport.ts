// QUIC transport: a lean driver over the raw quiche binding.
//
// One UDP socket per node carries every connection, inbound and outbound.
// Datagrams are routed by destination connection id (connection-id.ts) and
// fed to quiche as they arrive; the connections they touched are processed
// once per burst, in one setImmediate, which is where stream data moves and
// packets (ACKs included, so one ACK covers a burst) go out. Datagrams that
// match no connection and are not a plausible QUIC Initial are dropped, so
// garbage can cost a little CPU but never state. Peers are bounded by the
// connection, per-address, stream and window limits of quic-config.ts.
import dns from 'node:dns/promises';
import type dgram from 'node:dgram';
import net from 'node:net';
import { CONNECTION_ID_LENGTH, MIN_DATAGRAM_SIZE } from './constants.js';
import { connectionIdKey, newConnectionId, NO_ROUTE, routeKey } from './connection-id.js';
import { ConnectFailedError, ConnectionLimitError, ConnectTimeoutError, TransportClosedError } from './errors.js';
import { loadQuiche, type HostPort, type NativeConfig, type NativeQuiche } from './native-binding.js';
import { buildNativeConfig, resolveQuicSettings, type QuicSettings, type QuicTransportOptions } from './quic-config.js';
import { QuicConnection, type ConnectionHost } from './quic-connection.js';
import type { Endpoint, Transport, TransportConnection, TransportLogger } from './transport.js';
import { UdpSocket } from './udp-socket.js';

export type { QuicTransportOptions } from './quic-config.js';

const READ_SLAB_BYTES = 256 * 1024;
/** QUIC requires a client's first datagram to be padded to at least this. */
const MIN_INITIAL_DATAGRAM = MIN_DATAGRAM_SIZE;
/** RFC 9000 §7.2: a client's first destination connection id has at least 8 bytes. */
const MIN_CLIENT_DCID = 8;

export interface QuicTransportStats {
  connections: number;
  routes: number;
  streams: number;
  droppedDatagrams: number;
  acceptedHandshakes: number;
  queuedSends: number;
}

export class QuicTransport implements Transport, ConnectionHost {
  readonly settings: QuicSettings;
  readonly logger: TransportLogger;
  readonly sendBurstPackets: number;
  readonly streamHighWaterMark: number;
  readonly scratch = Buffer.allocUnsafeSlow(64 * 1024);
  localHostPort: HostPort = { host: '0.0.0.0', port: 0 };

  private readonly q: NativeQuiche;
  private readonly config: NativeConfig;
  private udp: UdpSocket | null = null;
  private bindPromise: Promise<Endpoint> | null = null;
  private accepting = false;
  private closedFlag = false;

  private readonly routes = new Map<number, QuicConnection>();
  private readonly connections = new Set<QuicConnection>();
  private readonly byEndpoint = new Map<string, QuicConnection>();
  private readonly dialing = new Map<string, Promise<QuicConnection>>();
  private readonly perAddress = new Map<string, number>();
  private readonly handlers = new Set<(c: TransportConnection) => void>();

  private dirty: QuicConnection[] = [];
  private spare: QuicConnection[] = [];
  private flushScheduled = false;
  private readonly flushBound = (): void => this.flush();
  private keepAliveTimer: NodeJS.Timeout | null = null;

  private slab = Buffer.allocUnsafeSlow(0);
  private slabOffset = 0;
  private readonly slabView = { buf: this.slab, offset: 0 };

  private droppedDatagrams = 0;
  private acceptedHandshakes = 0;

  constructor(options: QuicTransportOptions) {
    this.settings = resolveQuicSettings(options);
    this.logger = this.settings.logger;
    this.sendBurstPackets = this.settings.sendBurstPackets;
    this.streamHighWaterMark = this.settings.streamHighWaterMark;
    this.q = loadQuiche();
    this.config = buildNativeConfig(this.q, this.settings);
  }

  // ---- Transport -----------------------------------------------------------

  async listen(): Promise<Endpoint> {
    const endpoint = await this.ensureBound();
    this.accepting = true;
    return endpoint;
  }

  onConnection(handler: (connection: TransportConnection) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async connect(to: Endpoint): Promise<TransportConnection> {
    if (this.closedFlag) throw new TransportClosedError();
    await this.ensureBound();
    const ip = await this.resolveHost(to.host);
    const key = `${ip}:${to.port}`;
    const live = this.byEndpoint.get(key);
    if (live?.isOpen) return live;
    let pending = this.dialing.get(key);
    if (!pending) {
      pending = this.dial(ip, to.port).finally(() => this.dialing.delete(key));
      this.dialing.set(key, pending);
    }
    return pending;
  }

  close(): Promise<void> {
    return this.shutdown(true);
  }

  /** Vanishes without telling any peer, as a crashed or unplugged node would (tests). */
  abort(): Promise<void> {
    return this.shutdown(false);
  }

  private async shutdown(tellPeers: boolean): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.accepting = false;
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    if (tellPeers) for (const c of [...this.connections]) c.closeWith('transport_closed');
    for (const c of [...this.connections]) c.terminate('transport_closed');
    await this.bindPromise?.catch(() => undefined);
    await this.udp?.close();
  }

  /** The bound address, or null before listen()/connect(). */
  get endpoint(): Endpoint | null {
    return this.udp && this.localHostPort.port !== 0 ? { ...this.localHostPort } : null;
  }

  stats(): QuicTransportStats {
    let streams = 0;
    for (const c of this.connections) streams += c.stats().streams;
    return {
      connections: this.connections.size,
      routes: this.routes.size,
      streams,
      droppedDatagrams: this.droppedDatagrams,
      acceptedHandshakes: this.acceptedHandshakes,
      queuedSends: this.udp?.queuedSends ?? 0,
    };
  }

  /** Live connections (tests and diagnostics). */
  listConnections(): QuicConnection[] {
    return [...this.connections];
  }

  /** Sends raw bytes from our socket (robustness tests). */
  sendRawDatagram(data: Uint8Array, to: Endpoint): void {
    this.udp?.sendRaw(data, to.port, to.host);
  }

  // ---- ConnectionHost ------------------------------------------------------

  packetBuffer(): Buffer {
    return this.udp!.packetBuffer;
  }

  sendPacket(length: number, port: number, host: string): void {
    this.udp?.send(length, port, host);
  }

  readSlab(min: number): { buf: Buffer; offset: number } {
    if (this.slab.length - this.slabOffset < min) {
      this.slab = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
      this.slabOffset = 0;
    }
    this.slabView.buf = this.slab;
    this.slabView.offset = this.slabOffset;
    return this.slabView;
  }

  consumeSlab(bytes: number): void {
    this.slabOffset += bytes;
  }

  markDirty(conn: QuicConnection): void {
    if (!conn.dirty) {
      conn.dirty = true;
      this.dirty.push(conn);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushBound);
    }
  }

  established(conn: QuicConnection): void {
    this.byEndpoint.set(endpointKey(conn.remote), conn);
    if (conn.direction !== 'inbound') return;
    for (const handler of this.handlers) {
      try {
        handler(conn);
      } catch (err) {
        this.logger.error({ err }, 'connection handler threw');
      }
    }
  }

  closing(conn: QuicConnection): void {
    const ek = endpointKey(conn.remote);
    if (this.byEndpoint.get(ek) === conn) this.byEndpoint.delete(ek);
    const n = (this.perAddress.get(conn.remote.host) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(conn.remote.host);
    else this.perAddress.set(conn.remote.host, n);
  }

  forget(conn: QuicConnection): void {
    if (!this.connections.delete(conn)) return;
    for (const key of conn.routeKeys) {
      if (this.routes.get(key) === conn) this.routes.delete(key);
    }
  }

  // ---- internals -----------------------------------------------------------

  private ensureBound(): Promise<Endpoint> {
    if (this.closedFlag) return Promise.reject(new TransportClosedError());
    if (!this.bindPromise) {
      const s = this.settings;
      this.udp = new UdpSocket(s.host, s.socketBufferBytes, s.datagramSize, (m, r) => this.onDatagram(m, r), this.logger);
      this.bindPromise = this.udp.bind(s.host, s.port).then((bound) => {
        this.localHostPort = { host: bound.host, port: bound.port };
        this.keepAliveTimer = setInterval(() => this.onKeepAlive(), s.keepAliveIntervalMs);
        this.keepAliveTimer.unref();
        if (this.closedFlag) void this.udp?.close();
        return { host: bound.host, port: bound.port };
      });
    }
    return this.bindPromise;
  }

  private async resolveHost(host: string): Promise<string> {
    if (net.isIP(host)) return host;
    const family = this.udp?.family ?? 4;
    try {
      const { address } = await dns.lookup(host, { family });
      return address;
    } catch (err) {
      throw new ConnectFailedError(host, 'cannot resolve host', { cause: err });
    }
  }

  private admit(ip: string): void {
    if (this.connections.size >= this.settings.maxConnections) {
      throw new ConnectionLimitError(`connection limit reached (${this.settings.maxConnections})`);
    }
    if ((this.perAddress.get(ip) ?? 0) >= this.settings.maxConnectionsPerAddress) {
      throw new ConnectionLimitError(`too many connections with ${ip}`);
    }
  }

  private register(conn: QuicConnection, keys: number[]): void {
    for (const key of keys) {
      if (key !== NO_ROUTE && !this.routes.has(key)) {
        this.routes.set(key, conn);
        conn.routeKeys.push(key);
      }
    }
    this.connections.add(conn);
    this.perAddress.set(conn.remote.host, (this.perAddress.get(conn.remote.host) ?? 0) + 1);
  }

  private async dial(ip: string, port: number): Promise<QuicConnection> {
    const target = `${ip}:${port}`;
    if (this.closedFlag) throw new TransportClosedError();
    this.admit(ip);
    const { id, key } = newConnectionId(this.routes);
    let native;
    try {
      native = this.q.Connection.connect(null, id, this.localHostPort, { host: ip, port }, this.config);
    } catch (err) {
      throw new ConnectFailedError(target, 'quiche refused the dial', { cause: err });
    }
    const conn = new QuicConnection(this, native, 'outbound', { host: ip, port });
    this.register(conn, [key]);
    conn.process();
    const ms = this.settings.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeoutError(target, ms)), ms);
    });
    try {
      await Promise.race([conn.whenEstablished(), timeout]);
    } catch (err) {
      conn.terminate('error', 'dial failed');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = routeKey(msg);
    let conn = key === NO_ROUTE ? undefined : this.routes.get(key);
    if (conn === undefined) {
      conn = this.accept(msg, rinfo);
      if (conn === undefined) {
        this.droppedDatagrams++;
        return;
      }
      conn.receive(msg, rinfo);
      if (conn.q.isClosed()) {
        // The "Initial" did not survive quiche's checks: keep no state for it.
        conn.terminate('error', 'invalid initial packet');
        this.droppedDatagrams++;
      }
      return;
    }
    conn.receive(msg, rinfo);
  }

  /** A new inbound connection for a plausible client Initial, or undefined. */
  private accept(msg: Buffer, rinfo: dgram.RemoteInfo): QuicConnection | undefined {
    if (!this.accepting || this.closedFlag) return undefined;
    if (msg.length < MIN_INITIAL_DATAGRAM || (msg[0]! & 0x80) === 0) return undefined;
    let header;
    try {
      header = this.q.Header.fromSlice(msg, CONNECTION_ID_LENGTH);
    } catch {
      return undefined;
    }
    if (header.ty !== this.q.Type.Initial || !this.q.versionIsSupported(header.version)) return undefined;
    if (header.dcid.length < MIN_CLIENT_DCID) return undefined;
    try {
      this.admit(rinfo.address);
    } catch (err) {
      this.logger.debug({ err, from: rinfo.address }, 'inbound connection refused');
      return undefined;
    }
    const remote = { host: rinfo.address, port: rinfo.port };
    const { id, key } = newConnectionId(this.routes);
    let native;
    try {
      native = this.q.Connection.accept(id, null, this.localHostPort, remote, this.config);
    } catch (err) {
      this.logger.debug({ err }, 'quiche refused an inbound connection');
      return undefined;
    }
    const conn = new QuicConnection(this, native, 'inbound', remote);
    this.register(conn, [key, connectionIdKey(header.dcid)]);
    this.acceptedHandshakes++;
    return conn;
  }

  private flush(): void {
    this.flushScheduled = false;
    const list = this.dirty;
    this.dirty = this.spare;
    this.spare = list;
    for (let i = 0; i < list.length; i++) {
      const conn = list[i]!;
      conn.dirty = false;
      try {
        conn.process();
      } catch (err) {
        this.logger.error({ err, remote: conn.remote }, 'connection processing failed');
        conn.closeWith('error', (err as Error).message);
      }
    }
    list.length = 0;
  }

  private onKeepAlive(): void {
    const now = performance.now();
    for (const conn of this.connections) {
      if (conn.isOpen) conn.keepAlive();
      else if (conn.isHandshaking && now - conn.createdAt > this.settings.connectTimeoutMs) {
        conn.terminate('error', 'handshake timed out');
      }
    }
  }
}

function endpointKey(e: Endpoint): string {
  return `${e.host}:${e.port}`;
}
