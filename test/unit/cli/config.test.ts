import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../../server/cli/config.js';

const env = { HOME: '/home/user' } as NodeJS.ProcessEnv;

describe('resolveServeConfig', () => {
  it('uses the defaults of the spec', () => {
    const c = resolveServeConfig({}, env, '/cwd');
    expect(c).toMatchObject({
      gameDir: '/home/user/Games/lanspread',
      stateDir: '/home/user/.local/state/lanspread',
      catalogFile: null,
      httpHost: '127.0.0.1',
      httpPort: 7420,
      quicPort: 7421,
      token: null,
      peers: [],
      mdns: true,
      uploadLimit: 0,
      downloadLimit: 0,
    });
    expect(resolveServeConfig({}, { ...env, XDG_STATE_HOME: '/xdg' }).stateDir).toBe('/xdg/lanspread');
  });

  it('takes environment variables, and flags over them', () => {
    const e = {
      ...env,
      LANSPREAD_GAMES: 'g',
      LANSPREAD_HTTP: '0.0.0.0:8000',
      LANSPREAD_PEERS: '10.0.0.2:7421, 10.0.0.3:7421',
      LANSPREAD_NO_MDNS: '1',
      LANSPREAD_UPLOAD_LIMIT: '10M',
    };
    const c = resolveServeConfig({}, e, '/cwd');
    expect(c.gameDir).toBe(path.resolve('/cwd', 'g'));
    expect([c.httpHost, c.httpPort]).toEqual(['0.0.0.0', 8000]);
    expect(c.peers).toEqual([
      { host: '10.0.0.2', port: 7421 },
      { host: '10.0.0.3', port: 7421 },
    ]);
    expect(c.mdns).toBe(false);
    expect(c.uploadLimit).toBe(10 * 1024 * 1024);
    const f = resolveServeConfig({ games: '/abs/games', http: '127.0.0.1:9000', peer: ['h:1'], uploadLimit: '500K' }, e, '/cwd');
    expect(f.gameDir).toBe('/abs/games');
    expect(f.httpPort).toBe(9000);
    expect(f.peers).toEqual([{ host: 'h', port: 1 }]);
    expect(f.uploadLimit).toBe(500 * 1024);
    expect(f.explicit.gameDir).toBe(true);
    expect(resolveServeConfig({}, env).explicit.gameDir).toBe(false);
  });

  it('refuses bad values with one line naming the flag', () => {
    expect(() => resolveServeConfig({ http: 'localhost' }, env)).toThrow(/^--http: expected HOST:PORT/);
    expect(() => resolveServeConfig({ http: '127.0.0.1:70000' }, env)).toThrow(/--http: port 70000 is out of range/);
    expect(() => resolveServeConfig({ quicPort: 'abc' }, env)).toThrow(/--quic-port: "abc" is not a port/);
    expect(() => resolveServeConfig({ peer: ['host:0'] }, env)).toThrow(/--peer: port 0/);
    expect(() => resolveServeConfig({ uploadLimit: 'fast' }, env)).toThrow(/--upload-limit/);
    expect(() => resolveServeConfig({ token: 'short' }, env)).toThrow(/--token must be at least 16/);
    expect(() => resolveServeConfig({ logLevel: 'loud' }, env)).toThrow(/--log-level/);
  });
});

describe('--allow-host', () => {
  it('takes repeated flags or LANSPREAD_ALLOWED_HOSTS, in lower case, and refuses what is not a host name', () => {
    expect(resolveServeConfig({}, env).allowedHosts).toEqual([]);
    expect(resolveServeConfig({ allowHost: ['Seed.LAN', 'box.local.'] }, env).allowedHosts).toEqual(['seed.lan', 'box.local']);
    expect(resolveServeConfig({}, { ...env, LANSPREAD_ALLOWED_HOSTS: 'seed.lan, other' }).allowedHosts).toEqual(['seed.lan', 'other']);
    expect(resolveServeConfig({ allowHost: ['a'] }, { ...env, LANSPREAD_ALLOWED_HOSTS: 'b' }).allowedHosts).toEqual(['a']);
    for (const bad of ['seed.lan:7420', 'http://seed.lan', 'a b', '*.lan', '']) {
      expect(() => resolveServeConfig({ allowHost: [bad] }, env), bad).toThrow(/--allow-host/);
    }
  });
});
