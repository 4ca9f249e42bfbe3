// Transport defaults, one documented constant per option. The limits exist
// because the bundled quiche (0.18) lets a remote peer grow our memory
// (CVE-2023-6193, CVE-2024-1410, CVE-2024-1765): every count and window a
// peer can push on is bounded here.

/** Application protocol negotiated in the TLS handshake (SPEC section 3). */
export const DEFAULT_ALPN = 'lanspread/1';

/** Bind address. */
export const DEFAULT_HOST = '0.0.0.0';

/** quiche's default idle timeout is 0 (never); a dead peer would never be noticed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

/** Well under half the idle timeout, so one lost keep-alive does not drop a live peer. */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 2_500;

/** A dial (or an inbound handshake) that has not completed by then is abandoned. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Normal peers hold one or two connections to us (two when both dial at once). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 16;

export const DEFAULT_MAX_CONNECTIONS = 256;

/** Concurrent peer-opened streams per connection (QUIC MAX_STREAMS). */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 128;

/** Per-direction Duplex buffering of a stream. */
export const DEFAULT_STREAM_HIGH_WATER_MARK = 256 * 1024;

/**
 * Largest UDP payload we send. 1452 fits a 1500-byte Ethernet MTU under both
 * IPv4 and IPv6 headers; lower it (≥ 1200) for VPN or PPPoE links. quiche
 * 0.18 does no path-MTU discovery, so this is what every packet uses.
 */
export const DEFAULT_DATAGRAM_SIZE = 1452;

/** QUIC requires every path to carry 1200-byte datagrams. */
export const MIN_DATAGRAM_SIZE = 1200;

/** Largest UDP payload we accept (jumbo-frame peers may send more than we do). */
export const MAX_RECV_DATAGRAM_SIZE = 65_527;

/** SO_RCVBUF/SO_SNDBUF request; the kernel caps it at net.core.[rw]mem_max. */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Flow-control credit a stream and a connection start with. quiche grows the
 * windows (up to the maxima below) while the reader keeps up; the maxima cap
 * what a peer can make us buffer per connection. Room for ~100 ms at LAN
 * speed, so a receiver descheduled for a while on a busy host does not stall
 * the sender (benchmarks on a shared VM were too noisy to rank sizes finer).
 */
export const DEFAULT_INITIAL_STREAM_WINDOW = 2 * 1024 * 1024;
export const DEFAULT_INITIAL_CONNECTION_WINDOW = 8 * 1024 * 1024;
export const DEFAULT_MAX_STREAM_WINDOW = 16 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTION_WINDOW = 32 * 1024 * 1024;

/**
 * A closed connection's quiche state answers stray packets for at most this
 * long (quiche would keep it 3 PTO, seconds during a failed handshake).
 */
export const CLOSE_LINGER_MS = 1_000;

/** Packets sent for one connection before yielding to the event loop (ACKs need reading too). */
export const DEFAULT_SEND_BURST_PACKETS = 64;

/** Congestion controller; quiche's default. */
export const DEFAULT_CONGESTION_CONTROL = 'cubic';

/** Length of every connection id we issue; routing assumes it. */
export const CONNECTION_ID_LENGTH = 20;

/** Upper bound of one framed JSON message (framing.ts). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/** QUIC application error codes we put on resets and closes. */
export const APP_CODE_NO_ERROR = 0;
export const APP_CODE_CANCELLED = 1;
