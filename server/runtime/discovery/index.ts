// Peer discovery on the LAN: mDNS/DNS-SD service `_lanspread._udp.local`
// (SPEC section 4). The shell owns sockets and timers; the record code is pure.
export {
  MdnsDiscovery,
  MdnsUnavailableError,
  DEFAULT_QUERY_INTERVAL_MS,
  DEFAULT_INTERFACE_SCAN_INTERVAL_MS,
  DEFAULT_TTL_SECONDS,
  MAX_INTERFACES,
  type DiscoveryLogger,
  type MdnsDiscoveryOptions,
} from './mdns-discovery.js';
export { MAX_PEERS, type DiscoveredPeer } from './peer-cache.js';
export { InvalidDiscoveryOptionsError, SERVICE_TYPE, LIMITS as MDNS_LIMITS } from './mdns-records.js';
