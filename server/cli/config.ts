// Resolves `serve`'s configuration: command-line flag > environment variable >
// default (SPEC section 9). Pure, so every rule is unit-tested; a bad value is
// one clear line naming the flag.
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, DEFAULT_QUIC_PORT, defaultGameDir, defaultStateDir } from '../runtime/constants.js';
import { ErrorCode } from '../../shared/error-codes.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServeFlags {
  games?: string;
  state?: string;
  catalog?: string;
  http?: string;
  quicPort?: string;
  name?: string;
  token?: string;
  allowHost?: string[];
  peer?: string[];
  mdns?: boolean;
  uploadLimit?: string;
  downloadLimit?: string;
  logLevel?: string;
}

export interface ServeConfig {
  gameDir: string;
  stateDir: string;
  catalogFile: string | null;
  httpHost: string;
  httpPort: number;
  quicPort: number;
  name: string;
  token: string | null;
  /** host names served without a token besides local names and IP literals */
  allowedHosts: string[];
  peers: { host: string; port: number }[];
  mdns: boolean;
  uploadLimit: number;
  downloadLimit: number;
  logLevel: LogLevel;
  /** liveness timing (advanced; environment only) */
  peerTiming: { pingIntervalMs?: number; peerTimeoutMs?: number };
  /** chunk size this node serves its files in (advanced; environment only) */
  chunkSize: number | null;
  /** which values came from flags or environment (they override saved settings) */
  explicit: { gameDir: boolean; name: boolean; uploadLimit: boolean; downloadLimit: boolean };
}

/** A configuration value that cannot be used; the message is one line naming the flag. */
export class ConfigError extends Error {
  readonly code = ErrorCode.InvalidConfig;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Environment variable for each flag. */
export const ENV = {
  games: 'LANSPREAD_GAMES',
  state: 'LANSPREAD_STATE',
  catalog: 'LANSPREAD_CATALOG',
  http: 'LANSPREAD_HTTP',
  quicPort: 'LANSPREAD_QUIC_PORT',
  name: 'LANSPREAD_NAME',
  token: 'LANSPREAD_TOKEN',
  allowHost: 'LANSPREAD_ALLOWED_HOSTS',
  peer: 'LANSPREAD_PEERS',
  mdns: 'LANSPREAD_NO_MDNS',
  uploadLimit: 'LANSPREAD_UPLOAD_LIMIT',
  downloadLimit: 'LANSPREAD_DOWNLOAD_LIMIT',
  logLevel: 'LANSPREAD_LOG_LEVEL',
} as const;

export function resolveServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServeConfig {
  const pick = (key: keyof typeof ENV): string | undefined => {
    const flag = flags[key];
    if (typeof flag === 'string') return flag;
    const value = env[ENV[key]];
    return value === undefined || value === '' ? undefined : value;
  };
  const abs = (p: string) => path.resolve(cwd, expandHome(p, env));

  const games = pick('games');
  const state = pick('state');
  const catalog = pick('catalog');
  const http = parseHostPort(pick('http') ?? `${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}`, '--http', true);
  const quicPortText = pick('quicPort');
  const quicPort = quicPortText === undefined ? DEFAULT_QUIC_PORT : parsePort(quicPortText, '--quic-port', true);
  const name = pick('name');
  if (name !== undefined && (name.length === 0 || name.length > 64)) throw new ConfigError(`--name must be 1 to 64 characters`);
  const token = pick('token') ?? null;
  if (token !== null && token.length < 16) throw new ConfigError('--token must be at least 16 characters');
  const peerList =
    flags.peer && flags.peer.length > 0
      ? flags.peer
      : (env[ENV.peer]
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) ?? []);
  const allowedHosts = listFlag(flags.allowHost, env[ENV.allowHost]).map((h) => {
    const name = h.toLowerCase().replace(/\.$/, '');
    if (!/^[a-z0-9]([a-z0-9-]{0,62})?(\.[a-z0-9]([a-z0-9-]{0,62})?)*$/.test(name)) {
      throw new ConfigError(`--allow-host: "${h}" is not a host name`);
    }
    return name;
  });
  const peers = peerList.map((p) => parseHostPort(p, '--peer', false));
  const mdns = flags.mdns === false ? false : !isTruthy(env[ENV.mdns]);
  const uploadLimit = parseLimit(pick('uploadLimit'), '--upload-limit');
  const downloadLimit = parseLimit(pick('downloadLimit'), '--download-limit');
  const logLevel = (pick('logLevel') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  const peerTiming: ServeConfig['peerTiming'] = {};
  const ping = parseMs(env.LANSPREAD_PING_INTERVAL_MS, 'LANSPREAD_PING_INTERVAL_MS');
  const timeout = parseMs(env.LANSPREAD_PEER_TIMEOUT_MS, 'LANSPREAD_PEER_TIMEOUT_MS');
  if (ping !== undefined) peerTiming.pingIntervalMs = ping;
  if (timeout !== undefined) peerTiming.peerTimeoutMs = timeout;
  const chunkText = env.LANSPREAD_CHUNK_BYTES;
  let chunkSize: number | null = null;
  if (chunkText) {
    chunkSize = Number(chunkText);
    if (!Number.isInteger(chunkSize) || chunkSize < 64 * 1024 || chunkSize > 64 * 1024 * 1024) {
      throw new ConfigError(`LANSPREAD_CHUNK_BYTES: "${chunkText}" must be a whole number of bytes from 65536 to 67108864`);
    }
  }

  return {
    gameDir: games ? abs(games) : defaultGameDir(env),
    stateDir: state ? abs(state) : defaultStateDir(env),
    catalogFile: catalog ? abs(catalog) : null,
    httpHost: http.host,
    httpPort: http.port,
    quicPort,
    name: name ?? os.hostname(),
    token,
    allowedHosts,
    peers,
    mdns,
    uploadLimit: uploadLimit ?? 0,
    downloadLimit: downloadLimit ?? 0,
    logLevel,
    peerTiming,
    chunkSize,
    explicit: {
      gameDir: games !== undefined,
      name: name !== undefined,
      uploadLimit: uploadLimit !== undefined,
      downloadLimit: downloadLimit !== undefined,
    },
  };
}

/** A repeatable flag, else its environment variable as a comma-separated list. */
function listFlag(flag: string[] | undefined, env: string | undefined): string[] {
  if (flag && flag.length > 0) return flag;
  return (
    env
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? []
  );
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  return p === '~' || p.startsWith('~/') ? path.join(env.HOME || os.homedir(), p.slice(1)) : p;
}

function isTruthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

export function parsePort(text: string, flag: string, allowZero: boolean): number {
  if (!/^\d{1,5}$/.test(text)) throw new ConfigError(`${flag}: "${text}" is not a port number`);
  const port = Number(text);
  if (port > 65535 || (port === 0 && !allowZero))
    throw new ConfigError(`${flag}: port ${port} is out of range (${allowZero ? 0 : 1}-65535)`);
  return port;
}

/** `HOST:PORT` or `[v6]:PORT`. */
export function parseHostPort(text: string, flag: string, allowZero: boolean): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) return { host: v6[1] as string, port: parsePort(v6[2] as string, flag, allowZero) };
  const i = text.lastIndexOf(':');
  if (i <= 0) throw new ConfigError(`${flag}: expected HOST:PORT, got "${text}"`);
  const host = text.slice(0, i);
  if (host.includes(':') || !/^[A-Za-z0-9.-]+$/.test(host)) throw new ConfigError(`${flag}: "${host}" is not a host name or address`);
  return { host, port: parsePort(text.slice(i + 1), flag, allowZero) };
}

function parseMs(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{2,7}$/.test(text)) throw new ConfigError(`${name}: "${text}" is not a duration in milliseconds (10 to 9999999)`);
  return Number(text);
}

function parseLimit(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\s*([kKmMgG]?)(i?[bB])?(\/s)?$/.exec(text.trim());
  if (!m) throw new ConfigError(`${flag}: "${text}" is not a rate in bytes per second (e.g. 10000000, 10M, 500K; 0 = no limit)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}
