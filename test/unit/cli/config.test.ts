import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addServeOptions, parsedServeOptions, resolveServeConfig, type ServeConfig } from '../../../server/cli/config.js';

const HOME = { HOME: '/home/user' };

afterEach(() => {
  vi.unstubAllEnvs();
});

/**
 * `serve`'s configuration for `argv` as the command line parses it, with
 * exactly `vars` as the environment's LANSPREAD_ variables (commander reads
 * them from process.env at parse time; the machine's own are hidden).
 */
function serveConfig(argv: string[], vars: Record<string, string> = {}, cwd = '/cwd'): ServeConfig {
  for (const name of Object.keys(process.env)) if (name.startsWith('LANSPREAD_')) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(vars)) vi.stubEnv(name, value);
  const cmd = addServeOptions(new Command('serve')).exitOverride();
  cmd.parse(argv, { from: 'user' });
  return resolveServeConfig(parsedServeOptions(cmd), { ...HOME, ...vars }, cwd);
}

// Each variable with a value, the flag with another: the variable beats the
// default, the flag beats the variable.
const PRECEDENCE: [flag: string, variable: string, fromEnv: string, fromFlag: string, read: (c: ServeConfig) => unknown][] = [
  ['--games', 'LANSPREAD_GAMES', '/env/games', '/flag/games', (c) => c.gameDir],
  ['--state', 'LANSPREAD_STATE', '/env/state', '/flag/state', (c) => c.stateDir],
  ['--catalog', 'LANSPREAD_CATALOG', '/env/catalog.json', '/flag/catalog.json', (c) => c.catalogFile],
  ['--http', 'LANSPREAD_HTTP', '0.0.0.0:8000', '127.0.0.1:9000', (c) => `${c.httpHost}:${c.httpPort}`],
  ['--quic-port', 'LANSPREAD_QUIC_PORT', '8001', '9001', (c) => String(c.quicPort)],
  ['--name', 'LANSPREAD_NAME', 'from-env', 'from-flag', (c) => c.name],
  ['--token', 'LANSPREAD_TOKEN', 'env-token-0123456789', 'flag-token-0123456789', (c) => c.token],
  ['--allow-host', 'LANSPREAD_ALLOWED_HOSTS', 'env.lan', 'flag.lan', (c) => c.allowedHosts.join()],
  ['--peer', 'LANSPREAD_PEERS', 'env:1', 'flag:2', (c) => c.peers.map((p) => `${p.host}:${p.port}`).join()],
  ['--upload-limit', 'LANSPREAD_UPLOAD_LIMIT', '1000', '2000', (c) => String(c.uploadLimit)],
  ['--download-limit', 'LANSPREAD_DOWNLOAD_LIMIT', '3000', '4000', (c) => String(c.downloadLimit)],
  ['--max-active-transfers', 'LANSPREAD_MAX_ACTIVE_TRANSFERS', '2', '3', (c) => String(c.maxActiveTransfers)],
  ['--log-level', 'LANSPREAD_LOG_LEVEL', 'debug', 'warn', (c) => c.logLevel],
];
describe('resolveServeConfig', () => {
  it('uses the defaults of the spec', () => {
    const c = serveConfig([]);
    expect(c).toMatchObject({
      gameDir: '/home/user/Games/lanspread',
      stateDir: '/home/user/.local/state/lanspread',
      catalogFile: null,
      httpHost: '127.0.0.1',
      httpPort: 7420,
      quicPort: 7421,
      token: null,
      allowedHosts: [],
      peers: [],
      mdns: true,
      uploadLimit: 0,
      downloadLimit: 0,
      maxActiveTransfers: null,
      logLevel: 'info',
      peerTiming: {},
      chunkSize: null,
      explicit: { gameDir: false, name: false, uploadLimit: false, downloadLimit: false },
    });
    expect(serveConfig([], { XDG_STATE_HOME: '/xdg' }).stateDir).toBe('/xdg/lanspread');
  });

  it('takes environment variables, and flags over them', () => {
    const e = {
      LANSPREAD_GAMES: 'g',
      LANSPREAD_HTTP: '0.0.0.0:8000',
      LANSPREAD_PEERS: '10.0.0.2:7421, 10.0.0.3:7421',
      LANSPREAD_NO_MDNS: '1',
      LANSPREAD_UPLOAD_LIMIT: '10M',
    };
    const c = serveConfig([], e);
    expect(c.gameDir).toBe(path.resolve('/cwd', 'g'));
    expect([c.httpHost, c.httpPort]).toEqual(['0.0.0.0', 8000]);
    expect(c.peers).toEqual([
      { host: '10.0.0.2', port: 7421 },
      { host: '10.0.0.3', port: 7421 },
    ]);
    expect(c.mdns).toBe(false);
    expect(c.uploadLimit).toBe(10 * 1024 * 1024);
    const f = serveConfig(['--games', '/abs/games', '--http', '127.0.0.1:9000', '--peer', 'h:1', '--upload-limit', '500K'], e);
    expect(f.gameDir).toBe('/abs/games');
    expect(f.httpPort).toBe(9000);
    expect(f.peers).toEqual([{ host: 'h', port: 1 }]);
    expect(f.uploadLimit).toBe(500 * 1024);
    expect(f.explicit.gameDir).toBe(true);
    expect(serveConfig([]).explicit.gameDir).toBe(false);
  });

  it.each(PRECEDENCE)('%s > %s > default', (flag, variable, fromEnv, fromFlag, read) => {
    const byDefault = read(serveConfig([]));
    expect(byDefault).not.toBe(fromEnv);
    expect(read(serveConfig([], { [variable]: fromEnv }))).toBe(fromEnv);
    expect(read(serveConfig([flag, fromFlag], { [variable]: fromEnv }))).toBe(fromFlag);
    expect(read(serveConfig([flag, fromFlag]))).toBe(fromFlag);
  });

  it('marks what a flag or a variable gave as explicit (it overrides saved settings)', () => {
    const none = { gameDir: false, name: false, uploadLimit: false, downloadLimit: false };
    expect(serveConfig([]).explicit).toEqual(none);
    const vars = { LANSPREAD_GAMES: '/g', LANSPREAD_NAME: 'n', LANSPREAD_UPLOAD_LIMIT: '0', LANSPREAD_DOWNLOAD_LIMIT: '0' };
    expect(serveConfig([], vars).explicit).toEqual({ gameDir: true, name: true, uploadLimit: true, downloadLimit: true });
    const flags = ['--games', '/g', '--name', 'n', '--upload-limit', '0', '--download-limit', '0'];
    expect(serveConfig(flags).explicit).toEqual({ gameDir: true, name: true, uploadLimit: true, downloadLimit: true });
    expect(serveConfig(['--name', 'n']).explicit).toEqual({ ...none, name: true });
  });

  it('takes an empty variable as unset, and an empty flag as a value', () => {
    const empty = Object.fromEntries(PRECEDENCE.map(([, variable]) => [variable, '']));
    const c = serveConfig([], { ...empty, LANSPREAD_NO_MDNS: '' });
    expect(c).toEqual(serveConfig([]));
    expect(c.explicit).toEqual({ gameDir: false, name: false, uploadLimit: false, downloadLimit: false });
    expect(() => serveConfig(['--name', ''])).toThrow(/^--name must be 1 to 64 characters$/);
    expect(() => serveConfig(['--token', ''])).toThrow(/^--token must be at least 16/);
    expect(() => serveConfig(['--http', ''])).toThrow(/^--http: expected HOST:PORT/);
  });

  it('turns mDNS off with --no-mdns, or with LANSPREAD_NO_MDNS set to 1, true, yes or on', () => {
    for (const on of ['1', 'true', 'YES', 'On']) expect(serveConfig([], { LANSPREAD_NO_MDNS: on }).mdns, on).toBe(false);
    for (const off of ['0', 'false', 'no', '', 'x']) expect(serveConfig([], { LANSPREAD_NO_MDNS: off }).mdns, off).toBe(true);
    expect(serveConfig(['--no-mdns']).mdns).toBe(false);
    expect(serveConfig(['--no-mdns'], { LANSPREAD_NO_MDNS: '0' }).mdns).toBe(false);
  });

  it('splits list variables on commas, but not the repeatable flags', () => {
    expect(serveConfig([], { LANSPREAD_PEERS: ' a:1 ,, b:2, ' }).peers).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    expect(serveConfig(['--peer', 'a:1', '--peer', 'b:2']).peers).toHaveLength(2);
    expect(() => serveConfig(['--peer', 'a:1,b:2'])).toThrow(/^--peer: "a:1,b" is not a host name/);
  });

  it('refuses bad values with one line naming the flag', () => {
    expect(() => serveConfig(['--http', 'localhost'])).toThrow(/^--http: expected HOST:PORT/);
    expect(() => serveConfig(['--http', '127.0.0.1:70000'])).toThrow(/--http: port 70000 is out of range/);
    expect(() => serveConfig(['--quic-port', 'abc'])).toThrow(/--quic-port: "abc" is not a port/);
    expect(() => serveConfig(['--peer', 'host:0'])).toThrow(/--peer: port 0/);
    expect(() => serveConfig(['--upload-limit', 'fast'])).toThrow(/--upload-limit/);
    expect(() => serveConfig(['--token', 'short'])).toThrow(/--token must be at least 16/);
    expect(() => serveConfig(['--log-level', 'loud'])).toThrow(/^--log-level must be one of fatal, error/);
    for (const bad of ['0', '17', '2.5', 'two']) {
      expect(() => serveConfig(['--max-active-transfers', bad])).toThrow(
        /^--max-active-transfers: ".*" must be a whole number from 1 to 16$/,
      );
    }
  });

  it('refuses a bad variable with the same line, naming its flag', () => {
    expect(() => serveConfig([], { LANSPREAD_HTTP: 'localhost' })).toThrow(/^--http: expected HOST:PORT/);
    expect(() => serveConfig([], { LANSPREAD_QUIC_PORT: 'abc' })).toThrow(/^--quic-port: "abc" is not a port/);
    expect(() => serveConfig([], { LANSPREAD_PEERS: 'a:1,host:0' })).toThrow(/^--peer: port 0/);
    expect(() => serveConfig([], { LANSPREAD_DOWNLOAD_LIMIT: 'fast' })).toThrow(/^--download-limit/);
    expect(() => serveConfig([], { LANSPREAD_LOG_LEVEL: 'loud' })).toThrow(/^--log-level must be one of/);
    expect(() => serveConfig([], { LANSPREAD_NAME: 'x'.repeat(65) })).toThrow(/^--name must be 1 to 64/);
  });

  it('takes the advanced variables that have no flag', () => {
    const c = serveConfig([], {
      LANSPREAD_PING_INTERVAL_MS: '500',
      LANSPREAD_PEER_TIMEOUT_MS: '2000',
      LANSPREAD_CHUNK_BYTES: String(64 * 1024),
    });
    expect(c.peerTiming).toEqual({ pingIntervalMs: 500, peerTimeoutMs: 2000 });
    expect(c.chunkSize).toBe(64 * 1024);
    expect(() => serveConfig([], { LANSPREAD_PING_INTERVAL_MS: 'soon' })).toThrow(/^LANSPREAD_PING_INTERVAL_MS: "soon"/);
    expect(() => serveConfig([], { LANSPREAD_CHUNK_BYTES: '100' })).toThrow(/^LANSPREAD_CHUNK_BYTES: "100"/);
  });
});

describe('serve --help', () => {
  it('names the environment variable of each option', () => {
    const help = addServeOptions(new Command('serve')).helpInformation();
    // one entry per option, its wrapped lines joined
    const entries = help.split(/\n(?=\s+--)/).map((entry) => entry.trim().replace(/\s+/g, ' '));
    const names: [string, string][] = [
      ...PRECEDENCE.map(([flag, variable]): [string, string] => [flag, variable]),
      ['--no-mdns', 'LANSPREAD_NO_MDNS'],
    ];
    expect(names).toHaveLength(14);
    for (const [flag, variable] of names) {
      const entry = entries.find((e) => e.startsWith(`${flag} `));
      expect(entry, flag).toContain(`(env: ${variable})`);
    }
  });
});

describe('--allow-host', () => {
  it('takes repeated flags or LANSPREAD_ALLOWED_HOSTS, in lower case, and refuses what is not a host name', () => {
    expect(serveConfig([]).allowedHosts).toEqual([]);
    expect(serveConfig(['--allow-host', 'Seed.LAN', '--allow-host', 'box.local.']).allowedHosts).toEqual(['seed.lan', 'box.local']);
    expect(serveConfig([], { LANSPREAD_ALLOWED_HOSTS: 'seed.lan, other' }).allowedHosts).toEqual(['seed.lan', 'other']);
    expect(serveConfig(['--allow-host', 'a'], { LANSPREAD_ALLOWED_HOSTS: 'b' }).allowedHosts).toEqual(['a']);
    for (const bad of ['seed.lan:7420', 'http://seed.lan', 'a b', '*.lan', '']) {
      expect(() => serveConfig(['--allow-host', bad]), bad).toThrow(/--allow-host/);
    }
  });
});
