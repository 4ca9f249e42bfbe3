// Resolves QUIC transport options to complete settings and builds the quiche
// Config from them. Both roles present a certificate (mutual TLS) and both
// request the peer's; chain verification is off (self-signed per node) but
// the peer must still prove it holds the key, so its SPKI fingerprint is
// trustworthy. Unidirectional streams are refused (limit 0).
import {
  DEFAULT_ALPN,
  DEFAULT_CONGESTION_CONTROL,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DATAGRAM_SIZE,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_INITIAL_CONNECTION_WINDOW,
  DEFAULT_INITIAL_STREAM_WINDOW,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_MAX_CONNECTION_WINDOW,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_STREAM_WINDOW,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  DEFAULT_SEND_BURST_PACKETS,
  DEFAULT_SOCKET_BUFFER_BYTES,
  DEFAULT_STREAM_HIGH_WATER_MARK,
  MAX_RECV_DATAGRAM_SIZE,
  MIN_DATAGRAM_SIZE,
} from './constants.js';
import { InvalidTransportOptionsError } from './errors.js';
import type { NativeConfig, NativeQuiche } from './native-binding.js';
import type { TransportLogger, TransportOptions } from './transport.js';

export type CongestionControl = 'cubic' | 'reno' | 'bbr';

export interface QuicTransportOptions extends TransportOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** Largest UDP payload sent, 1200–65527; default 1452. */
  datagramSize?: number;
  /** Requested socket send and receive buffer size. */
  socketBufferBytes?: number;
  initialStreamWindow?: number;
  initialConnectionWindow?: number;
  maxStreamWindow?: number;
  maxConnectionWindow?: number;
  congestionControl?: CongestionControl;
  /** Packets sent for one connection before yielding to the event loop. */
  sendBurstPackets?: number;
}

export interface QuicSettings {
  host: string;
  port: number;
  key: Buffer;
  cert: Buffer;
  alpn: string;
  idleTimeoutMs: number;
  keepAliveIntervalMs: number;
  connectTimeoutMs: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
  maxStreamsPerConnection: number;
  streamHighWaterMark: number;
  datagramSize: number;
  socketBufferBytes: number;
  initialStreamWindow: number;
  initialConnectionWindow: number;
  maxStreamWindow: number;
  maxConnectionWindow: number;
  congestionControl: CongestionControl;
  sendBurstPackets: number;
  logger: TransportLogger;
}

const noop = (): void => {};
export const silentTransportLogger: TransportLogger = { debug: noop, info: noop, warn: noop, error: noop };

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new InvalidTransportOptionsError(`${name} must be a number ≥ ${min}`);
  return v;
}

export function resolveQuicSettings(options: QuicTransportOptions): QuicSettings {
  if (!options.key || !options.cert) {
    throw new InvalidTransportOptionsError('QUIC needs a key and a certificate (mutual TLS)');
  }
  const datagramSize = positive('datagramSize', options.datagramSize, DEFAULT_DATAGRAM_SIZE, MIN_DATAGRAM_SIZE);
  if (datagramSize > MAX_RECV_DATAGRAM_SIZE) {
    throw new InvalidTransportOptionsError(`datagramSize must be ≤ ${MAX_RECV_DATAGRAM_SIZE}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidTransportOptionsError(`invalid port ${port}`);
  }
  const alpn = options.alpn ?? DEFAULT_ALPN;
  if (alpn.length === 0 || alpn.length > 255) throw new InvalidTransportOptionsError('invalid ALPN');
  const cc = options.congestionControl ?? DEFAULT_CONGESTION_CONTROL;
  if (cc !== 'cubic' && cc !== 'reno' && cc !== 'bbr') {
    throw new InvalidTransportOptionsError(`unknown congestion control "${String(cc)}"`);
  }
  const idleTimeoutMs = positive('idleTimeoutMs', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
  return {
    host: options.host ?? DEFAULT_HOST,
    port,
    key: Buffer.from(options.key),
    cert: Buffer.from(options.cert),
    alpn,
    idleTimeoutMs,
    keepAliveIntervalMs: positive(
      'keepAliveIntervalMs',
      options.keepAliveIntervalMs,
      Math.min(DEFAULT_KEEP_ALIVE_INTERVAL_MS, Math.floor(idleTimeoutMs / 3)),
    ),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    maxConnectionsPerAddress: positive('maxConnectionsPerAddress', options.maxConnectionsPerAddress, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    maxConnections: positive('maxConnections', options.maxConnections, DEFAULT_MAX_CONNECTIONS),
    maxStreamsPerConnection: positive('maxStreamsPerConnection', options.maxStreamsPerConnection, DEFAULT_MAX_STREAMS_PER_CONNECTION),
    streamHighWaterMark: positive('streamHighWaterMark', options.streamHighWaterMark, DEFAULT_STREAM_HIGH_WATER_MARK),
    datagramSize,
    socketBufferBytes: positive('socketBufferBytes', options.socketBufferBytes, DEFAULT_SOCKET_BUFFER_BYTES),
    initialStreamWindow: positive('initialStreamWindow', options.initialStreamWindow, DEFAULT_INITIAL_STREAM_WINDOW),
    initialConnectionWindow: positive('initialConnectionWindow', options.initialConnectionWindow, DEFAULT_INITIAL_CONNECTION_WINDOW),
    maxStreamWindow: positive('maxStreamWindow', options.maxStreamWindow, DEFAULT_MAX_STREAM_WINDOW),
    maxConnectionWindow: positive('maxConnectionWindow', options.maxConnectionWindow, DEFAULT_MAX_CONNECTION_WINDOW),
    congestionControl: cc,
    sendBurstPackets: positive('sendBurstPackets', options.sendBurstPackets, DEFAULT_SEND_BURST_PACKETS),
    logger: options.logger ?? silentTransportLogger,
  };
}

/** A quiche Config for either role (both present a certificate and request the peer's). */
export function buildNativeConfig(q: NativeQuiche, s: QuicSettings): NativeConfig {
  let c: NativeConfig;
  try {
    c = q.Config.withBoringSslCtx(true, true, null, [s.key], [s.cert], null);
  } catch (err) {
    throw new InvalidTransportOptionsError(`key/certificate rejected by TLS: ${(err as Error).message}`);
  }
  c.setApplicationProtos([s.alpn]);
  c.setMaxIdleTimeout(s.idleTimeoutMs);
  c.setMaxRecvUdpPayloadSize(MAX_RECV_DATAGRAM_SIZE);
  c.setMaxSendUdpPayloadSize(s.datagramSize);
  c.setInitialMaxData(s.initialConnectionWindow);
  c.setInitialMaxStreamDataBidiLocal(s.initialStreamWindow);
  c.setInitialMaxStreamDataBidiRemote(s.initialStreamWindow);
  c.setInitialMaxStreamDataUni(0);
  c.setInitialMaxStreamsBidi(s.maxStreamsPerConnection);
  c.setInitialMaxStreamsUni(0);
  c.setMaxStreamWindow(Math.max(s.maxStreamWindow, s.initialStreamWindow));
  c.setMaxConnectionWindow(Math.max(s.maxConnectionWindow, s.initialConnectionWindow));
  c.setDisableActiveMigration(true);
  c.setCcAlgorithmName(s.congestionControl);
  return c;
}
