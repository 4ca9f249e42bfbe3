// Public surface of the transport layer: the contract, its two
// implementations, framing, identities and errors.
export type {
  ConnectionDirection,
  Endpoint,
  Transport,
  TransportConnection,
  TransportLogger,
  TransportOptions,
  TransportStream,
} from './transport.js';
export * from './errors.js';
export * from './constants.js';
export {
  EndOfStreamError,
  FRAME_HEADER_BYTES,
  FrameMalformedError,
  FrameTooLargeError,
  FrameTruncatedError,
  decodeFrameBody,
  encodeFrame,
  endWithMessage,
  readExactly,
  readMessage,
  writeMessage,
  type FrameOptions,
} from './framing.js';
export { generateIdentity, loadOrCreateIdentity, peerIdFromPublicKey, type Identity } from './identity.js';
export { QuinnTransport, type QuinnTransportOptions, type QuinnTransportStats } from './quinn-transport.js';
export { MemoryNetwork, MemoryTransport, MEMORY_HOST, defaultMemoryNetwork, type MemoryTransportOptions } from './memory-transport.js';
