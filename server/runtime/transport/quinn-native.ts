// The one place that touches quinn's native layer (`@chainsafe/libp2p-quic`,
// pinned): it loads the generated napi module (the package's `exports` name
// only its libp2p entry point, whose 4 KiB stream reads are too slow for bulk
// data), checks that every class and method the transport calls is there, and
// turns the native errors (plain `Error`s with quinn's own wording) into the
// transport's coded ones. If the package changes shape, loading fails loudly
// naming what is missing, and a test pins the version.
import { readFileSync } from 'node:fs';
import {
  BindingMismatchError,
  ConnectionClosedError,
  StreamFailedError,
  StreamResetError,
  StreamStoppedError,
  type TransportError,
} from './errors.js';

/** The version the transport is written and measured against. */
export const QUINN_PACKAGE_VERSION = '2.1.1';

/** Options of the native `QuinnConfig` (milliseconds and bytes). */
export interface NativeQuinnConfigInit {
  privateKeyProto: Uint8Array;
  /** Ignored by 2.1.1 (the idle timeout bounds a handshake); the transport times dials itself. */
  handshakeTimeout: number;
  maxIdleTimeout: number;
  keepAliveInterval: number;
  maxConcurrentStreamLimit: number;
  maxStreamData: number;
  maxConnectionData: number;
  receiveBufferSize: number;
  sendBufferSize: number;
}

export interface NativeStream {
  id(): string;
  /** Up to `max` bytes, or null at the peer's FIN. */
  read(max: number): Promise<Uint8Array | null>;
  /** Resolves once all of `data` is handed to quinn (its flow control may hold it back). */
  write(data: Uint8Array): Promise<void>;
  finishWrite(): Promise<void>;
  resetWrite(): Promise<void>;
  stopRead(): Promise<void>;
}

export interface NativeConnectionStats {
  [key: string]: unknown;
}

export interface NativeConnection {
  id(): string;
  inboundStream(): Promise<NativeStream>;
  outboundStream(): Promise<NativeStream>;
  /** `/ip4/<ip>/udp/<port>/quic-v1/p2p/<libp2p peer id proven by the handshake>` */
  remoteMultiaddr(): string;
  rtt(): number;
  stats(): NativeConnectionStats;
  closed(): Promise<void>;
  abort(): void;
}

export interface NativeEndpointStats {
  acceptedHandshakes?: number | bigint;
  outgoingHandshakes?: number | bigint;
  refusedHandshakes?: number | bigint;
  ignoredHandshakes?: number | bigint;
}

export interface NativeServer {
  port(): number;
  inboundConnection(): Promise<NativeConnection>;
  abort(): Promise<void>;
  stats(): NativeEndpointStats;
}

export interface NativeClient {
  outboundConnection(ip: string, port: number): Promise<NativeConnection>;
  abort(): void;
  stats(): NativeEndpointStats;
}

export type NativeConfig = object;

export interface QuinnNative {
  QuinnConfig: new (init: NativeQuinnConfigInit) => NativeConfig;
  Server: new (config: NativeConfig, ip: string, port: number) => NativeServer;
  Client: new (config: NativeConfig, family: number) => NativeClient;
  SocketFamily: { Ipv4: number; Ipv6: number };
}

/** Every member the transport calls, by class. */
export const REQUIRED_MEMBERS: Record<string, readonly string[]> = {
  QuinnConfig: [],
  Server: ['port', 'inboundConnection', 'abort', 'stats'],
  Client: ['outboundConnection', 'abort', 'stats'],
  Connection: ['id', 'inboundStream', 'outboundStream', 'remoteMultiaddr', 'rtt', 'stats', 'closed', 'abort'],
  Stream: ['id', 'read', 'write', 'finishWrite', 'resetWrite', 'stopRead'],
};

// Resolved and imported once, when the transport module is first loaded.
const entryUrl = new URL(import.meta.resolve('@chainsafe/libp2p-quic'));
let imported: Record<string, unknown> | null = null;
let importError: unknown = null;
try {
  imported = (await import(new URL('napi.js', entryUrl).href)) as Record<string, unknown>;
} catch (err) {
  importError = err;
}

/** What the module lacks of `REQUIRED_MEMBERS` (empty when it has everything). */
export function missingMembers(mod: Record<string, unknown>): string[] {
  const missing: string[] = [];
  for (const [cls, methods] of Object.entries(REQUIRED_MEMBERS)) {
    const ctor: unknown = mod[cls];
    if (typeof ctor !== 'function') {
      missing.push(cls);
      continue;
    }
    const proto = (ctor as { prototype?: Record<string, unknown> }).prototype;
    for (const m of methods) if (typeof proto?.[m] !== 'function') missing.push(`${cls}.${m}`);
  }
  const family = mod.SocketFamily as Record<string, unknown> | undefined;
  if (typeof family?.Ipv4 !== 'number' || typeof family.Ipv6 !== 'number') missing.push('SocketFamily');
  return missing;
}

/** The installed package's version (its package.json sits two folders above the entry point). */
export function installedQuinnVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', entryUrl), 'utf8')) as { version: string };
  return pkg.version;
}

/** The native module; throws a coded error when it cannot load or lacks something the transport calls. */
export function loadQuinn(): QuinnNative {
  if (!imported) {
    throw new BindingMismatchError(['native module for this platform'], installedQuinnVersion(), { cause: importError });
  }
  const missing = missingMembers(imported);
  if (missing.length > 0) throw new BindingMismatchError(missing, installedQuinnVersion());
  return imported as unknown as QuinnNative;
}

/**
 * A native stream or connection failure, as a coded transport error. quinn's
 * messages are its error types' Display strings ("stream reset by peer: error
 * 0", "sending stopped by peer: error 0", "connection lost", "closed stream",
 * "timed out", "closed by peer: …"); this is the only place that reads them.
 */
export function classifyNative(err: unknown, connectionClosed: ConnectionClosedError | null): TransportError {
  const message = err instanceof Error ? err.message : String(err);
  if (/reset by peer/.test(message)) return new StreamResetError(appCode(message));
  if (/stopped by peer/.test(message)) return new StreamStoppedError(appCode(message));
  if (connectionClosed) return connectionClosed;
  if (/connection lost|locally closed|timed out|closed by peer|aborted by peer|reset by peer/.test(message)) {
    return new ConnectionClosedError('error', message);
  }
  return new StreamFailedError(message, { cause: err });
}

function appCode(message: string): number {
  const m = /error (\d+)/.exec(message);
  return m ? Number(m[1]) : 0;
}
