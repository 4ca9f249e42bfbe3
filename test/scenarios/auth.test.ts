// Remote administration and browser attacks against real `serve` processes, over
// plain HTTP. Scenario ids R1–R4 in docs/SCENARIOS.md.
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const TOKEN = 'scenario-token-0123456789';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with exactly the headers given (fetch would not let a test set Host). */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // a connection of its own: one left over from a refused upgrade is not reused
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A WebSocket handshake on /api/events: the status the node answers (101 when it accepts). */
function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL('api/events', url), {
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** This machine's first non-loopback IPv4 address, as another machine on the LAN would use. */
function lanAddress(): string | null {
  const all = Object.values(os.networkInterfaces()).flat();
  return all.find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? null;
}

async function node(args: string[], http = '127.0.0.1:0'): Promise<NodeProcess> {
  const n = await startNode({ games: await tempDir(), state: await tempDir(), http, args });
  onTestFinished(() => n.stop('SIGKILL'));
  return n;
}

describe('remote administration and browser attacks, against real nodes', () => {
  it('R1: a node on 0.0.0.0 refuses unauthenticated calls from the LAN and accepts the token, as a header or a session cookie', async () => {
    const n = await node(['--token', TOKEN], '0.0.0.0:0');
    const address = lanAddress() ?? '127.0.0.1';
    const port = new URL(n.url).port;
    const url = `http://${address}:${port}/`;
    if (lanAddress()) expect(n.stdout()).toContain(`also:      ${url}#token=${TOKEN}`);

    for (const path of ['api/health', 'api/games', 'api/peers', 'api/settings', 'api/openapi.json', 'api/docs']) {
      const res = await request(new URL(path, url).toString());
      expect(res.status, path).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    }
    const write = await request(new URL('api/settings', url).toString(), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"pwned"}',
    });
    expect(write.status).toBe(401);
    expect(await upgrade(url, {})).toBe(401);

    const bearer = { authorization: `Bearer ${TOKEN}` };
    const health = await request(new URL('api/health', url).toString(), { headers: bearer });
    expect(health.status).toBe(200);
    expect(await upgrade(url, bearer)).toBe(101);

    const login = await request(new URL('api/session', url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect((await request(new URL('api/games', url).toString(), { headers: { cookie } })).status).toBe(200);
    expect(await upgrade(url, { cookie, origin: url.slice(0, -1) })).toBe(101);
    const named = await request(new URL('api/settings', url).toString(), {
      method: 'PUT',
      headers: { cookie, 'content-type': 'application/json', origin: url.slice(0, -1) },
      body: '{"name":"seed-box"}',
    });
    expect(named.status).toBe(200);
    expect(JSON.parse(named.body).name).toBe('seed-box');
  });

  it('R2: on localhost without a token, a foreign Host is refused (DNS rebinding); --allow-host adds a name', async () => {
    const n = await node(['--allow-host', 'seed.lan']);
    for (const host of ['attacker.example', `attacker.example:${new URL(n.url).port}`, 'localhost.attacker.example']) {
      const res = await request(new URL('api/games', n.url).toString(), { headers: { host } });
      expect(res.status, host).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('forbidden_host');
      expect((await request(n.url, { headers: { host } })).status, `dashboard as ${host}`).toBe(403);
    }
    expect((await upgrade(n.url, { host: 'attacker.example' })).valueOf()).toBe(403);
    for (const host of ['localhost', '127.0.0.1', 'seed.lan']) {
      expect((await request(new URL('api/games', n.url).toString(), { headers: { host } })).status, host).toBe(200);
    }
  });

  it('R3: on localhost, state-changing calls and the event stream from a foreign Origin are refused (CSRF)', async () => {
    const n = await node([]);
    const own = n.url.slice(0, -1);
    const put = (headers: Record<string, string>) =>
      request(new URL('api/settings', n.url).toString(), {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"name":"pwned"}',
      });
    for (const origin of ['http://evil.example', 'null', 'http://localhost:1']) {
      const res = await put({ origin });
      expect(res.status, origin).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('forbidden_origin');
    }
    expect((await put({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const download = await request(new URL('api/games/wesnoth/download', n.url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: '{}',
    });
    expect(download.status).toBe(403);
    expect(await upgrade(n.url, { origin: 'http://evil.example' })).toBe(403);
    const settings = await request(new URL('api/settings', n.url).toString());
    expect(JSON.parse(settings.body).name).not.toBe('pwned');
    expect((await put({ origin: own })).status).toBe(200);
    expect(await upgrade(n.url, { origin: own })).toBe(101);
    // and every answer forbids framing
    expect(String(settings.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });

  it('R4: hostile raw HTTP (garbage, bad framing, huge headers, random routes) gets 4xx or a closed socket, and the node keeps serving', async () => {
    const n = await node(['--token', TOKEN]);
    const { port } = new URL(n.url);
    const raw = (data: string | Buffer) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        let answer = '';
        socket.on('data', (d) => (answer += d.toString('latin1')));
        socket.on('error', () => resolve(answer));
        socket.on('close', () => resolve(answer));
        socket.setTimeout(3_000, () => socket.destroy());
        socket.end(data);
      });
    const junk: (string | Buffer)[] = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /api/health HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n',
      'POST /api/session HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      `GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      'POST /api/games/wesnoth/download HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":',
      'GET /api/games/%ff%fe HTTP/1.1\r\nHost: localhost\r\n\r\n',
      `GET /api/${'x/'.repeat(5_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00]), // a TLS hello
    ];
    for (let i = 0; i < 60; i++) {
      const method = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'][i % 5];
      const path =
        ['/api/games/', '/api/session', '/api/settings', '/api/events', '/api/docs/', '/'][i % 6] + '%'.repeat(i % 3) + String(i);
      junk.push(
        `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${i % 2 ? `Bearer ${TOKEN}` : `Basic ${'x'.repeat(i)}`}\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[${i % 10}]`,
      );
    }
    for (const data of junk) {
      const answer = await raw(data);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      if (status !== undefined) expect(Number(status), JSON.stringify(String(data).slice(0, 80))).toBeLessThan(500);
    }
    const health = await request(new URL('api/health', n.url).toString(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(health.status).toBe(200);
    expect(n.child.exitCode).toBeNull();
  }, 60_000);
});
