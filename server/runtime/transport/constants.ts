// Transport defaults, one documented constant per option. quinn bounds its
// own packet handling; what it leaves to us (connections per address, total
// connections, dial time) is bounded here, and every window a peer can push
// on is set explicitly rather than left to library defaults.

/** Bind address. */
export const DEFAULT_HOST = '0.0.0.0';

/** A connection with no packet from the peer for this long is closed (quinn also bounds handshakes by it). */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

/** Well under half the idle timeout, so one lost keep-alive does not drop a live peer. */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 2_500;

/** A dial that has not completed its handshake by then is abandoned. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Normal peers hold one or two connections to us (two when both dial at once). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 16;

export const DEFAULT_MAX_CONNECTIONS = 256;

/** Concurrent peer-opened streams per connection (QUIC MAX_STREAMS). */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 128;

/** Per-direction Duplex buffering of a stream. */
export const DEFAULT_STREAM_HIGH_WATER_MARK = 256 * 1024;

/**
 * Flow-control windows: what a peer may send before we read it, per stream
 * and per connection. They cap what one peer can make us buffer (a connection
 * at most 32 MiB) and leave room for ~100 ms at LAN speed on one stream, so a
 * receiver descheduled for a moment on a busy host does not stall the sender.
 */
export const DEFAULT_STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
export const DEFAULT_CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;

/** SO_RCVBUF/SO_SNDBUF request; the kernel caps it at net.core.[rw]mem_max. */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Largest read asked of quinn at once. Every read is a call into Rust that
 * allocates the size asked for; 256 KiB keeps the per-call cost small beside
 * the bytes moved (64 KiB measured within 5% of 1 MiB).
 */
export const READ_BYTES = 256 * 1024;

/**
 * A stream's first reads ask for this much, and each read that comes back full
 * asks for four times more, up to READ_BYTES: a request or a small answer never
 * makes quinn allocate 256 KiB (which, across a hundred thousand streams, grew
 * the native heap by hundreds of MiB), while a bulk stream reaches full-size
 * reads after two calls.
 */
export const FIRST_READ_BYTES = 16 * 1024;

/** Writes smaller than this are gathered into one native call. */
export const WRITE_GATHER_BYTES = 64 * 1024;

/**
 * Inbound handshakes awaited at once (quinn completes the handshake inside
 * its accept call): so many silent or slow clients cannot hold up the others.
 */
export const ACCEPT_CONCURRENCY = 64;

/** Upper bound of one framed JSON message (framing.ts). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/** Application error codes on resets and closes (quinn's native layer always sends 0). */
export const APP_CODE_NO_ERROR = 0;
export const APP_CODE_CANCELLED = 1;
