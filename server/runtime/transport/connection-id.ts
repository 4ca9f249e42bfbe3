// Routing of incoming datagrams to connections by destination connection id,
// without allocating per packet. Every connection id we issue is
// CONNECTION_ID_LENGTH random bytes whose first ROUTE_PREFIX_BYTES are unique
// among our live connections, so that prefix (read as a 48-bit number) is the
// routing key. Short-header packets carry our id at byte 1; long-header
// packets carry a length-prefixed id at byte 6. A client's original
// destination id (chosen by the client, ≥ 8 bytes) is routed the same way
// until the handshake moves it onto ours.
import { randomFillSync } from 'node:crypto';
import { CONNECTION_ID_LENGTH } from './constants.js';

/** Bytes of a connection id used as its routing key (48 bits: exact in a double). */
export const ROUTE_PREFIX_BYTES = 6;

/** Returned by routeKey for datagrams that cannot be ours. */
export const NO_ROUTE = -1;

/** The routing key of a datagram's destination connection id, or NO_ROUTE. */
export function routeKey(datagram: Uint8Array): number {
  const len = datagram.length;
  if (len < 1) return NO_ROUTE;
  const first = datagram[0]!;
  if ((first & 0x80) !== 0) {
    // Long header: flags(1) version(4) dcid_len(1) dcid(dcid_len) …
    if (len < 6 + ROUTE_PREFIX_BYTES) return NO_ROUTE;
    const dcidLen = datagram[5]!;
    if (dcidLen < ROUTE_PREFIX_BYTES || dcidLen > 20 || len < 6 + dcidLen) return NO_ROUTE;
    return readPrefix(datagram, 6);
  }
  // Short header: flags(1) dcid(CONNECTION_ID_LENGTH) …
  if (len < 1 + CONNECTION_ID_LENGTH) return NO_ROUTE;
  return readPrefix(datagram, 1);
}

/** The routing key of a connection id. */
export function connectionIdKey(id: Uint8Array): number {
  return id.length < ROUTE_PREFIX_BYTES ? NO_ROUTE : readPrefix(id, 0);
}

function readPrefix(b: Uint8Array, at: number): number {
  // 48-bit big-endian; multiplication keeps it exact above 2^32.
  return (b[at]! * 0x10000 + ((b[at + 1]! << 8) | b[at + 2]!)) * 0x1000000 + ((b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!);
}

/** A fresh connection id whose routing key is not in `taken`. */
export function newConnectionId(taken: { has(key: number): boolean }): { id: Buffer; key: number } {
  const id = Buffer.allocUnsafe(CONNECTION_ID_LENGTH);
  for (;;) {
    randomFillSync(id);
    const key = readPrefix(id, 0);
    if (!taken.has(key)) return { id, key };
  }
}
