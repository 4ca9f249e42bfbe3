// The raw quiche binding of @matrixai/quic 2.0.9, typed down to what the
// driver uses. It is undocumented, so the driver depends on exactly the
// members listed in REQUIRED_* below and `assertBindingShape()` checks them
// at start (and a unit test checks them on every run): a new version that
// drops or renames one fails loudly instead of misbehaving.
//
// The binding reports stream conditions only as error messages such as
// "StreamReset(9)" or "StreamStopped(7)" (quiche's Debug format);
// `classifyNativeError` is the single place that reads them.
import { quiche as rawQuiche } from '@matrixai/quic/native/index.js';
import { BindingMismatchError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface RecvInfo {
  from: HostPort;
  to: HostPort;
}

export interface NativeConfig {
  setApplicationProtos(protos: string[]): void;
  setMaxIdleTimeout(ms: number): void;
  setMaxRecvUdpPayloadSize(size: number): void;
  setMaxSendUdpPayloadSize(size: number): void;
  setInitialMaxData(v: number): void;
  setInitialMaxStreamDataBidiLocal(v: number): void;
  setInitialMaxStreamDataBidiRemote(v: number): void;
  setInitialMaxStreamDataUni(v: number): void;
  setInitialMaxStreamsBidi(v: number): void;
  setInitialMaxStreamsUni(v: number): void;
  setMaxStreamWindow(v: number): void;
  setMaxConnectionWindow(v: number): void;
  setDisableActiveMigration(v: boolean): void;
  setCcAlgorithmName(name: string): void;
}

export interface NativeConnectionError {
  isApp: boolean;
  errorCode: number;
  reason: Uint8Array;
}

export interface NativeConnection {
  recv(data: Uint8Array, info: RecvInfo): number;
  send(out: Uint8Array): [number, unknown] | null;
  streamRecv(id: number, out: Uint8Array): [number, boolean] | null;
  streamSend(id: number, data: Uint8Array, fin: boolean): number | null;
  streamShutdown(id: number, direction: number, code: number): void | null;
  peerStreamsLeftBidi(): number;
  readable(): Iterable<number>;
  timeout(): number | null;
  onTimeout(): void;
  sendAckEliciting(): void;
  close(app: boolean, code: number, reason: Uint8Array): void | null;
  peerCertChain(): Uint8Array[] | null;
  applicationProto(): Uint8Array;
  isEstablished(): boolean;
  isDraining(): boolean;
  isClosed(): boolean;
  isTimedOut(): boolean;
  peerError(): NativeConnectionError | null;
  localError(): NativeConnectionError | null;
  stats(): Record<string, number | boolean | undefined>;
}

export interface NativeHeader {
  ty: number;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
}

export interface NativeQuiche {
  MAX_CONN_ID_LEN: number;
  Shutdown: { Read: number; Write: number };
  Type: { Initial: number };
  versionIsSupported(version: number): boolean;
  Config: {
    withBoringSslCtx(
      verifyPeer: boolean,
      verifyAllowFail: boolean,
      ca: Uint8Array | null,
      key: Uint8Array[] | null,
      cert: Uint8Array[] | null,
      sigalgs: string | null,
    ): NativeConfig;
  };
  Connection: {
    connect(serverName: string | null, scid: Uint8Array, local: HostPort, remote: HostPort, config: NativeConfig): NativeConnection;
    accept(scid: Uint8Array, odcid: Uint8Array | null, local: HostPort, remote: HostPort, config: NativeConfig): NativeConnection;
  };
  Header: { fromSlice(data: Uint8Array, dcidLength: number): NativeHeader };
}

export const REQUIRED_STATICS = [
  'versionIsSupported',
  'Config.withBoringSslCtx',
  'Connection.connect',
  'Connection.accept',
  'Header.fromSlice',
] as const;

export const REQUIRED_CONFIG_METHODS = [
  'setApplicationProtos',
  'setMaxIdleTimeout',
  'setMaxRecvUdpPayloadSize',
  'setMaxSendUdpPayloadSize',
  'setInitialMaxData',
  'setInitialMaxStreamDataBidiLocal',
  'setInitialMaxStreamDataBidiRemote',
  'setInitialMaxStreamDataUni',
  'setInitialMaxStreamsBidi',
  'setInitialMaxStreamsUni',
  'setMaxStreamWindow',
  'setMaxConnectionWindow',
  'setDisableActiveMigration',
  'setCcAlgorithmName',
] as const satisfies readonly (keyof NativeConfig)[];

export const REQUIRED_CONNECTION_METHODS = [
  'recv',
  'send',
  'streamRecv',
  'streamSend',
  'streamShutdown',
  'peerStreamsLeftBidi',
  'readable',
  'timeout',
  'onTimeout',
  'sendAckEliciting',
  'close',
  'peerCertChain',
  'applicationProto',
  'isEstablished',
  'isDraining',
  'isClosed',
  'isTimedOut',
  'peerError',
  'localError',
  'stats',
] as const satisfies readonly (keyof NativeConnection)[];

function lookup(root: unknown, path: string): unknown {
  let at: unknown = root;
  for (const part of path.split('.')) {
    if ((typeof at !== 'object' && typeof at !== 'function') || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Names of required members that the given binding object lacks (empty when all are there). */
export function missingBindingMembers(binding: unknown): string[] {
  const missing: string[] = [];
  for (const path of REQUIRED_STATICS) {
    if (typeof lookup(binding, path) !== 'function') missing.push(path);
  }
  const configProto = lookup(binding, 'Config.prototype');
  for (const name of REQUIRED_CONFIG_METHODS) {
    if (typeof lookup(configProto, name) !== 'function') missing.push(`Config#${name}`);
  }
  const connProto = lookup(binding, 'Connection.prototype');
  for (const name of REQUIRED_CONNECTION_METHODS) {
    if (typeof lookup(connProto, name) !== 'function') missing.push(`Connection#${name}`);
  }
  for (const path of ['MAX_CONN_ID_LEN', 'Shutdown.Read', 'Shutdown.Write', 'Type.Initial']) {
    if (typeof lookup(binding, path) !== 'number') missing.push(path);
  }
  return missing;
}

let checked = false;

/** The binding, after checking that everything the driver calls is there. */
export function loadQuiche(): NativeQuiche {
  if (!checked) {
    const missing = missingBindingMembers(rawQuiche);
    if (missing.length > 0) throw new BindingMismatchError(missing);
    checked = true;
  }
  return rawQuiche as unknown as NativeQuiche;
}

export type NativeErrorKind = 'done' | 'reset' | 'stopped' | 'stream_limit' | 'other';

export interface ClassifiedNativeError {
  kind: NativeErrorKind;
  /** The application error code carried by a reset or stop. */
  appCode: number;
  message: string;
}

const PATTERN = /^(StreamReset|StreamStopped)\((\d+)\)/;

/** Reads what a binding exception means; the only place that looks at its text. */
export function classifyNativeError(err: unknown): ClassifiedNativeError {
  const message = err instanceof Error ? err.message : String(err);
  const m = PATTERN.exec(message);
  if (m) {
    return { kind: m[1] === 'StreamReset' ? 'reset' : 'stopped', appCode: Number(m[2]), message };
  }
  if (message.startsWith('StreamLimit')) return { kind: 'stream_limit', appCode: 0, message };
  if (message === 'Done') return { kind: 'done', appCode: 0, message };
  return { kind: 'other', appCode: 0, message };
}
