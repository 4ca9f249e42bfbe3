// Garbage, truncated, replayed and forged datagrams thrown at a QUIC endpoint
// must cost it nothing lasting: it keeps serving the well-behaved client it
// already has, accepts new ones, and keeps no state for the junk.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../server/runtime/transport/identity.js';
import { loadQuiche } from '../../../server/runtime/transport/native-binding.js';
import { buildNativeConfig, resolveQuicSettings } from '../../../server/runtime/transport/quic-config.js';
import { QuicTransport } from '../../../server/runtime/transport/quic-transport.js';
import type { TransportConnection, TransportStream } from '../../../server/runtime/transport/transport.js';
import { devIdentity, readAll, sleep } from '../../unit/transport/helpers.js';
import { UdpProxy } from './udp-proxy.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function roundTrip(conn: TransportConnection, text: string): Promise<string> {
  const s = await conn.openStream();
  const reply = readAll(s);
  s.end(text);
  return (await reply).toString();
}

describe('quic endpoint under junk traffic', () => {
  it('keeps serving while random, truncated, replayed and forged datagrams arrive', async () => {
    const serverId = devIdentity();
    const clientId = await generateIdentity();
    const server = new QuicTransport({
      host: '127.0.0.1',
      key: serverId.key,
      cert: serverId.cert,
      maxConnectionsPerAddress: 4,
      connectTimeoutMs: 3000,
      keepAliveIntervalMs: 200,
    });
    cleanups.push(() => server.close());
    server.onConnection((c) =>
      c.onStream((s: TransportStream) => {
        s.on('error', () => undefined);
        s.pipe(s);
      }),
    );
    const at = await server.listen();

    // The well-behaved client talks through a tap that records its packets.
    let firstInitial: Buffer | null = null;
    let serverCid: Buffer | null = null;
    const proxy = new UdpProxy(at, {
      tap: (msg, fromClient) => {
        if (!fromClient) return;
        if (!firstInitial && (msg[0]! & 0xf0) === 0xc0) firstInitial = Buffer.from(msg);
        if (!serverCid && (msg[0]! & 0x80) === 0) serverCid = Buffer.from(msg.subarray(1, 21));
      },
    });
    cleanups.push(() => proxy.close());
    const client = new QuicTransport({ host: '127.0.0.1', key: clientId.key, cert: clientId.cert });
    cleanups.push(() => client.close());
    const conn = await client.connect(await proxy.start());
    expect(await roundTrip(conn, 'before')).toBe('before');
    expect(firstInitial).not.toBeNull();
    expect(serverCid).not.toBeNull();
    const baseline = server.stats();

    const attacker = dgram.createSocket('udp4');
    cleanups.push(() => new Promise((r) => attacker.close(() => r())));
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', r));
    const send = async (datagrams: Buffer[]): Promise<void> => {
      for (let i = 0; i < datagrams.length; i++) {
        attacker.send(datagrams[i]!, at.port, at.host);
        if (i % 200 === 199) await sleep(5);
      }
    };
    const t0 = performance.now();
    await send(makeJunk(firstInitial!, serverCid!));
    // The existing client is served during and after the flood.
    expect(await roundTrip(conn, 'during')).toBe('during');
    await sleep(100);
    expect(server.stats().droppedDatagrams).toBeGreaterThan(baseline.droppedDatagrams + 1000);
    // Junk leaves no state behind, not even until the handshake timeout.
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(server.stats()).toMatchObject({ connections: baseline.connections, routes: baseline.routes });

    await send(freshInitials(10, clientId));
    await sleep(100);

    // Genuine Initials that are never followed up start handshakes, but no more than the per-address limit.
    expect(server.stats().acceptedHandshakes).toBeGreaterThan(baseline.acceptedHandshakes);
    expect(server.stats().connections).toBeLessThanOrEqual(baseline.connections + 4);

    // A new client is accepted too.
    // From the same address as the half-open handshakes: it may wait until they time out.
    const fresh = new QuicTransport({ host: '127.0.0.1', key: clientId.key, cert: clientId.cert, connectTimeoutMs: 10_000 });
    cleanups.push(() => fresh.close());
    expect(await roundTrip(await fresh.connect(at), 'new client')).toBe('new client');

    // Half-open handshakes from the junk are dropped after the connect timeout.
    await sleep(3700);
    expect(server.stats().connections).toBe(baseline.connections + 1);
    expect(await roundTrip(conn, 'after')).toBe('after');
  });
});

/** First packets of genuine handshakes that the sender will never continue. */
function freshInitials(n: number, id: { key: string; cert: string }): Buffer[] {
  const q = loadQuiche();
  const config = buildNativeConfig(q, resolveQuicSettings({ key: id.key, cert: id.cert }));
  const out: Buffer[] = [];
  const buf = Buffer.alloc(2048);
  for (let i = 0; i < n; i++) {
    const c = q.Connection.connect(null, randomBytes(20), { host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }, config);
    const r = c.send(buf);
    out.push(Buffer.from(buf.subarray(0, r![0])));
  }
  return out;
}

/** Every kind of junk, shuffled. */
function makeJunk(initial: Buffer, serverCid: Buffer): Buffer[] {
  const out: Buffer[] = [];
  // Random bytes of random length (0–1500).
  for (let i = 0; i < 1500; i++) out.push(randomBytes(Math.floor(Math.random() * 1500)));
  // Long-header "Initials" of QUIC v1 with random ids and payload.
  for (let i = 0; i < 300; i++) {
    const b = randomBytes(1200 + Math.floor(Math.random() * 200));
    b[0] = 0xc0 | (b[0]! & 0x0f);
    b.writeUInt32BE(1, 1);
    b[5] = 8 + Math.floor(Math.random() * 13);
    out.push(b);
  }
  // Truncated copies of a real Initial.
  for (let i = 0; i < 300; i++) out.push(Buffer.from(initial.subarray(0, Math.floor(Math.random() * initial.length))));
  // A real Initial with bits flipped in its protected payload.
  for (let i = 0; i < 200; i++) {
    const b = Buffer.from(initial);
    const at = 60 + Math.floor(Math.random() * (b.length - 60));
    b[at] = b[at]! ^ 0xff;
    out.push(b);
  }
  // Verbatim replays of the real Initial.
  for (let i = 0; i < 20; i++) out.push(Buffer.from(initial));
  // Short-header packets addressed to the live connection, with junk inside.
  for (let i = 0; i < 1500; i++) {
    const b = randomBytes(22 + Math.floor(Math.random() * 1400));
    b[0] = 0x40 | (b[0]! & 0x3f);
    serverCid.copy(b, 1);
    out.push(b);
  }
  // Long-header packets addressed to the live connection.
  for (let i = 0; i < 200; i++) {
    const b = randomBytes(30 + Math.floor(Math.random() * 1300));
    b[0] = 0xc0 | (b[0]! & 0x3f);
    b.writeUInt32BE(Math.random() < 0.5 ? 1 : 0xbabababa, 1);
    b[5] = 20;
    serverCid.copy(b, 6);
    out.push(b);
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
