// Resolves `serve`'s configuration: command-line flag > environment variable >
// default (SPEC section 9). Commander declares each flag with its variable
// (`Option.env()`, shown by --help) and tells which of the two gave a value;
// the rules for values are pure, so every one is unit-tested, and a bad value
// is one clear line naming the flag.
import os from 'node:os';
import path from 'node:path';
import { type Command, Option, type OptionValueSource } from 'commander';
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
  maxActiveTransfers?: string;
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
  /** transfers at once, more wait in the queue; null: not given (the saved setting, else 1) */
  maxActiveTransfers: number | null;
  logLevel: LogLevel;
  /** liveness timing (advanced; environment only) */
  peerTiming: { pingIntervalMs?: number; peerTimeoutMs?: number };
  /** chunk size this node serves its files in (advanced; environment only) */
  chunkSize: number | null;
  /** take part in swarms (LANSPREAD_NO_SWARM=1 turns it off) */
  swarm: boolean;
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

/** 1, true, yes or on in it turns mDNS off; any other value leaves it on (commander alone would turn it off for any value). */
const NO_MDNS_ENV = 'LANSPREAD_NO_MDNS';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Declares `serve`'s options on `cmd`, each with its environment variable. */
export function addServeOptions(cmd: Command): Command {
  const opt = (flags: string, description: string, env: string) => cmd.addOption(new Option(flags, description).env(env));
  opt('--games <dir>', 'game dir; default ~/Games/lanspread', 'LANSPREAD_GAMES');
  opt('--state <dir>', 'state dir; default $XDG_STATE_HOME/lanspread', 'LANSPREAD_STATE');
  opt('--catalog <file>', 'catalog JSON replacing the built-in one', 'LANSPREAD_CATALOG');
  opt('--http <host:port>', 'dashboard and API address; default 127.0.0.1:7420', 'LANSPREAD_HTTP');
  opt('--quic-port <n>', 'QUIC port for peers; default 7421 or the next free one', 'LANSPREAD_QUIC_PORT');
  opt('--name <name>', 'name shown to other nodes; default the host name', 'LANSPREAD_NAME');
  opt('--token <token>', 'API access token; required off localhost, generated when missing', 'LANSPREAD_TOKEN');
  const list = (flags: string, description: string, env: string) =>
    cmd.addOption(new Option(flags, description).env(env).argParser(collect));
  list(
    '--allow-host <name>',
    'a host name the dashboard may be opened as without a token, e.g. seed.lan; repeatable; the variable is comma-separated',
    'LANSPREAD_ALLOWED_HOSTS',
  );
  list('--peer <host:port>', 'a peer to connect to without mDNS; repeatable; the variable is comma-separated', 'LANSPREAD_PEERS');
  opt('--no-mdns', 'do not use mDNS discovery; the variable does when 1, true, yes or on', NO_MDNS_ENV);
  opt('--upload-limit <rate>', 'upload cap in bytes/s, e.g. 20M; 0 = none', 'LANSPREAD_UPLOAD_LIMIT');
  opt('--download-limit <rate>', 'download cap in bytes/s; 0 = none', 'LANSPREAD_DOWNLOAD_LIMIT');
  opt(
    '--max-active-transfers <n>',
    'downloads, updates and streamed installs at once (1-16); more wait in the queue; default 1',
    'LANSPREAD_MAX_ACTIVE_TRANSFERS',
  );
  // The level is checked below rather than by commander's choices(), which
  // would refuse an empty variable that the other options take as unset.
  opt('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}; default info`, 'LANSPREAD_LOG_LEVEL');
  return cmd;
}

/** What commander parsed for `serve`: each value and whether a flag ('cli') or its variable ('env') gave it. */
export interface ParsedServeOptions {
  values: ServeFlags;
  sources: Partial<Record<keyof ServeFlags, OptionValueSource | undefined>>;
}

export function parsedServeOptions(cmd: Command): ParsedServeOptions {
  const values = cmd.opts<ServeFlags>();
  const keys = Object.keys(values) as (keyof ServeFlags)[];
  return { values, sources: Object.fromEntries(keys.map((key) => [key, cmd.getOptionValueSource(key)])) };
}

/**
 * The configuration from what commander parsed; `env` gives the defaults that
 * depend on it (home, XDG) and the advanced variables that have no flag.
 */
export function resolveServeConfig(parsed: ParsedServeOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServeConfig {
  const { values, sources } = parsed;
  // An empty variable counts as unset; an empty flag is a value (and mostly an error).
  const pick = (key: Exclude<keyof ServeFlags, 'allowHost' | 'peer' | 'mdns'>): string | undefined => {
    const value = values[key];
    return sources[key] === 'env' && value === '' ? undefined : value;
  };
  // A repeatable flag, or its variable as a comma-separated list.
  const listOf = (key: 'allowHost' | 'peer'): string[] => {
    const value = values[key] ?? [];
    if (sources[key] !== 'env') return value;
    return value
      .flatMap((v) => v.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
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
  const allowedHosts = listOf('allowHost').map((h) => {
    const name = h.toLowerCase().replace(/\.$/, '');
    if (!/^[a-z0-9]([a-z0-9-]{0,62})?(\.[a-z0-9]([a-z0-9-]{0,62})?)*$/.test(name)) {
      throw new ConfigError(`--allow-host: "${h}" is not a host name`);
    }
    return name;
  });
  const peers = listOf('peer').map((p) => parseHostPort(p, '--peer', false));
  const mdns = sources.mdns === 'env' ? !isTruthy(env[NO_MDNS_ENV]) : values.mdns !== false;
  const uploadLimit = parseLimit(pick('uploadLimit'), '--upload-limit');
  const downloadLimit = parseLimit(pick('downloadLimit'), '--download-limit');
  const maxActiveText = pick('maxActiveTransfers');
  if (maxActiveText !== undefined && !/^([1-9]|1[0-6])$/.test(maxActiveText)) {
    throw new ConfigError(`--max-active-transfers: "${maxActiveText}" must be a whole number from 1 to 16`);
  }
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

  // complete holders only, no swarm (the swarm bench's comparison)
  const swarm = !isTruthy(env.LANSPREAD_NO_SWARM);

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
    maxActiveTransfers: maxActiveText === undefined ? null : Number(maxActiveText),
    logLevel,
    peerTiming,
    chunkSize,
    swarm,
    explicit: {
      gameDir: games !== undefined,
      name: name !== undefined,
      uploadLimit: uploadLimit !== undefined,
      downloadLimit: downloadLimit !== undefined,
    },
  };
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
