// QUIC-only behaviour: loss recovery, datagram size, ALPN, limits, options.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, type Identity } from '../../../server/runtime/transport/identity.js';
import { QuicTransport, type QuicTransportOptions } from '../../../server/runtime/transport/quic-transport.js';
import type { TransportStream } from '../../../server/runtime/transport/transport.js';
import { devIdentity, readAll, sha256, writeRandom } from '../../unit/transport/helpers.js';
import { UdpProxy } from './udp-proxy.js';

let serverId: Identity;
let clientId: Identity;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  serverId = devIdentity();
  clientId = await generateIdentity();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function quic(id: Identity, options: Partial<QuicTransportOptions> = {}): QuicTransport {
  const t = new QuicTransport({ host: '127.0.0.1', key: id.key, cert: id.cert, ...options });
  cleanups.push(() => t.close());
  return t;
}

const echo = (s: TransportStream): void => {
  s.on('error', () => undefined);
  s.pipe(s);
};

describe('quic transport', () => {
  it('recovers from packet loss and never sends a datagram over the configured size', async () => {
    const server = quic(serverId, { datagramSize: 1350 });
    server.onConnection((c) =>
      c.onStream(async (s) => {
        const got = await readAll(s);
        s.write(sha256(got));
        await writeRandom(s, 1024 * 1024);
      }),
    );
    const proxy = new UdpProxy(await server.listen(), { loss: 0.05, seed: 42 });
    cleanups.push(() => proxy.close());
    const client = quic(clientId, { datagramSize: 1350 });
    const conn = await client.connect(await proxy.start());
    const s = await conn.openStream();
    const reply = readAll(s);
    const upHash = await writeRandom(s, 2 * 1024 * 1024);
    const back = await reply;
    expect(back.subarray(0, 64).toString()).toBe(upHash);
    expect(back.length).toBe(64 + 1024 * 1024);
    expect(proxy.dropped).toBeGreaterThan(30);
    expect(proxy.maxDatagram).toBeLessThanOrEqual(1350);
    expect(proxy.maxDatagram).toBeGreaterThan(1300);
  });

  it('refuses a peer that speaks another application protocol', async () => {
    const server = quic(serverId);
    const at = await server.listen();
    const client = quic(clientId, { alpn: 'other/9', connectTimeoutMs: 3000 });
    const t0 = performance.now();
    await expect(client.connect(at)).rejects.toMatchObject({ code: 'connect_failed' });
    expect(performance.now() - t0).toBeLessThan(2000);
    // The refused handshake leaves no state behind once quiche has drained it.
    for (let i = 0; i < 40 && server.stats().connections > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(server.stats()).toMatchObject({ connections: 0, routes: 0 });
  });

  it('limits connections per remote address, and frees the slot on close', async () => {
    const server = quic(serverId, { maxConnectionsPerAddress: 2 });
    server.onConnection((c) => c.onStream(echo));
    const at = await server.listen();
    const a = await quic(clientId).connect(at);
    await quic(clientId).connect(at);
    await expect(quic(clientId, { connectTimeoutMs: 500 }).connect(at)).rejects.toMatchObject({
      code: 'connect_timeout',
    });
    await a.close();
    await new Promise((r) => setTimeout(r, 200));
    const c = await quic(clientId, { connectTimeoutMs: 2000 }).connect(at);
    const s = await c.openStream();
    const reply = readAll(s);
    s.end('fits again');
    expect((await reply).toString()).toBe('fits again');
  });

  it('rejects unusable options with a stable code', () => {
    const { key, cert } = devIdentity();
    const bad: Partial<QuicTransportOptions>[] = [
      { key: '', cert },
      { key, cert, datagramSize: 1000 },
      { key, cert, port: 70_000 },
      { key, cert, congestionControl: 'vegas' as 'cubic' },
      { key: 'not a key', cert },
    ];
    for (const options of bad) {
      expect(() => new QuicTransport(options as QuicTransportOptions)).toThrow(
        expect.objectContaining({ code: 'invalid_transport_options' }),
      );
    }
  });

  it('uses one socket for accepting and dialling', async () => {
    const a = quic(serverId);
    const b = quic(clientId);
    const aAt = await a.listen();
    const bAt = await b.listen();
    const seenByB = new Promise<{ port: number }>((resolve) => b.onConnection((c) => resolve(c.remote)));
    a.onConnection((c) => c.onStream(echo));
    // a dials b: b sees a's listening port as the source.
    await a.connect(bAt);
    expect((await seenByB).port).toBe(aAt.port);
  });

  it('works over IPv6 and on all interfaces', async () => {
    for (const [bind, dial] of [
      ['::1', '::1'],
      ['0.0.0.0', '127.0.0.1'],
    ]) {
      const server = quic(serverId, { host: bind });
      server.onConnection((c) => c.onStream(echo));
      const { port } = await server.listen();
      const conn = await quic(clientId, { host: bind === '::1' ? '::1' : '0.0.0.0' }).connect({ host: dial!, port });
      const s = await conn.openStream();
      const reply = readAll(s);
      s.end(`via ${bind}`);
      expect((await reply).toString()).toBe(`via ${bind}`);
    }
  });

  it('reports a port in use with a stable code', async () => {
    const first = quic(serverId);
    const { port } = await first.listen();
    await expect(quic(serverId, { port }).listen()).rejects.toMatchObject({ code: 'bind_failed' });
  });
});
