// QUIC-only behaviour: loss recovery, limits, options, address families, binding.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, type Identity } from '../../../server/runtime/transport/identity.js';
import { QuinnTransport, type QuinnTransportOptions } from '../../../server/runtime/transport/quinn-transport.js';
import type { TransportStream } from '../../../server/runtime/transport/transport.js';
import { readAll, sha256, sleep, writeRandom } from '../../unit/transport/helpers.js';
import { UdpProxy } from './udp-proxy.js';

let serverId: Identity;
let clientId: Identity;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [serverId, clientId] = await Promise.all([generateIdentity(), generateIdentity()]);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function quic(identity: Identity, options: Partial<QuinnTransportOptions> = {}): QuinnTransport {
  const t = new QuinnTransport({ host: '127.0.0.1', identity, ...options });
  cleanups.push(() => t.close());
  return t;
}

const echo = (s: TransportStream): void => {
  s.on('error', () => undefined);
  s.pipe(s);
};

describe('quic transport', () => {
  it('recovers from packet loss, both ways, with every byte intact', async () => {
    const server = quic(serverId);
    server.onConnection((c) =>
      c.onStream(async (s) => {
        const got = await readAll(s);
        s.write(sha256(got));
        await writeRandom(s, 1024 * 1024);
      }),
    );
    const proxy = new UdpProxy(await server.listen(), { loss: 0.05, seed: 42 });
    cleanups.push(() => proxy.close());
    const conn = await quic(clientId).connect(await proxy.start());
    const s = await conn.openStream();
    const reply = readAll(s);
    const upHash = await writeRandom(s, 2 * 1024 * 1024);
    const back = await reply;
    expect(back.subarray(0, 64).toString()).toBe(upHash);
    expect(back.length).toBe(64 + 1024 * 1024);
    expect(proxy.dropped).toBeGreaterThan(30);
  });

  it('limits connections per remote address: extras are closed at accept, and the slot frees on close', async () => {
    const server = quic(serverId, { maxConnectionsPerAddress: 2 });
    let handed = 0;
    server.onConnection((c) => {
      handed++;
      c.onStream(echo);
    });
    const at = await server.listen();
    const a = await quic(clientId).connect(at);
    await quic(clientId).connect(at);
    // The third completes its handshake, then the server closes it before anyone sees it.
    const extra = await quic(clientId).connect(at);
    await Promise.race([extra.closed, sleep(10_000)]);
    await expect(extra.openStream()).rejects.toMatchObject({ code: 'connection_closed' });
    expect(handed).toBe(2);
    expect(server.stats()).toMatchObject({ connections: 2, refusedConnections: 1 });
    await a.close();
    for (let i = 0; i < 40 && server.stats().connections > 1; i++) await sleep(50);
    const c = await quic(clientId, { connectTimeoutMs: 2000 }).connect(at);
    const s = await c.openStream();
    const reply = readAll(s);
    s.end('fits again');
    expect((await reply).toString()).toBe('fits again');
    expect(handed).toBe(3);
  });

  it('limits connections in total', async () => {
    const server = quic(serverId, { maxConnections: 1 });
    server.onConnection((c) => c.onStream(echo));
    const at = await server.listen();
    await quic(clientId).connect(at);
    const second = await quic(clientId).connect(at);
    await Promise.race([second.closed, sleep(10_000)]);
    expect(server.stats()).toMatchObject({ connections: 1, refusedConnections: 1 });
  });

  it('rejects unusable options with a stable code', async () => {
    const identity = await generateIdentity();
    const bad: Partial<QuinnTransportOptions>[] = [
      {},
      { identity: { peerId: identity.peerId, privateKeyProto: new Uint8Array(0) } },
      { identity, port: 70_000 },
      { identity, host: 'localhost' },
      { identity, idleTimeoutMs: 0 },
      { identity, keepAliveIntervalMs: 5000, idleTimeoutMs: 4000 },
      { identity, maxStreamsPerConnection: -1 },
    ];
    for (const options of bad) {
      expect(() => new QuinnTransport(options as QuinnTransportOptions)).toThrow(
        expect.objectContaining({ code: 'invalid_transport_options' }),
      );
    }
  });

  it('dials from an endpoint of its own, apart from the listening one', async () => {
    const a = quic(serverId);
    const b = quic(clientId);
    const aAt = await a.listen();
    const bAt = await b.listen();
    const seenByB = new Promise<{ port: number }>((resolve) => b.onConnection((c) => resolve(c.remote)));
    const conn = await a.connect(bAt);
    expect((await seenByB).port).not.toBe(aAt.port);
    // Both sides still know who the other is.
    expect(conn.remotePeerId).toBe(clientId.peerId);
  });

  it('works over IPv6 and on all interfaces', async () => {
    for (const [bind, dial] of [
      ['::1', '::1'],
      ['0.0.0.0', '127.0.0.1'],
    ]) {
      const server = quic(serverId, { host: bind });
      server.onConnection((c) => c.onStream(echo));
      const { port } = await server.listen();
      const conn = await quic(clientId).connect({ host: dial!, port });
      const s = await conn.openStream();
      const reply = readAll(s);
      s.end(`via ${bind}`);
      expect((await reply).toString()).toBe(`via ${bind}`);
    }
  });

  it('reports a port in use with a stable code and the errno', async () => {
    const first = quic(serverId);
    const { port } = await first.listen();
    await expect(quic(serverId, { port }).listen()).rejects.toMatchObject({ code: 'bind_failed', cause: { code: 'EADDRINUSE' } });
  });
});
