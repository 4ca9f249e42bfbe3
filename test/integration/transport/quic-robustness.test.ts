// Garbage, truncated, replayed and forged datagrams, and handshakes that are
// never finished, thrown at a QUIC endpoint must cost it nothing lasting: it
// keeps serving the well-behaved client it already has, accepts new ones
// promptly, and makes no connection out of the junk.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../server/runtime/transport/identity.js';
import { QuinnTransport } from '../../../server/runtime/transport/quinn-transport.js';
import type { Endpoint, TransportConnection, TransportStream } from '../../../server/runtime/transport/transport.js';
import { readAll, sleep } from '../../unit/transport/helpers.js';
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

async function echoServer(): Promise<{ server: QuinnTransport; at: Endpoint }> {
  const server = new QuinnTransport({ host: '127.0.0.1', identity: await generateIdentity(), maxConnectionsPerAddress: 64 });
  cleanups.push(() => server.close());
  server.onConnection((c) =>
    c.onStream((s: TransportStream) => {
      s.on('error', () => undefined);
      s.pipe(s);
    }),
  );
  return { server, at: await server.listen() };
}

async function client(connectTimeoutMs?: number): Promise<QuinnTransport> {
  const t = new QuinnTransport({
    host: '127.0.0.1',
    identity: await generateIdentity(),
    ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
  });
  cleanups.push(() => t.close());
  return t;
}

describe('quic endpoint under junk traffic', () => {
  it('keeps serving while random, truncated, replayed and forged datagrams arrive', async () => {
    const { server, at } = await echoServer();
    // The well-behaved client talks through a tap that records its first Initial and the server's connection id.
    let firstInitial: Buffer | null = null;
    let serverCid: Buffer | null = null;
    const proxy = new UdpProxy(at, {
      tap: (msg, fromClient) => {
        const longHeader = (msg[0]! & 0x80) !== 0;
        if (fromClient && longHeader && !firstInitial && (msg[0]! & 0x30) === 0) firstInitial = Buffer.from(msg);
        if (!fromClient && longHeader && !serverCid) {
          const dcidLen = msg[5]!;
          const scidLen = msg[6 + dcidLen]!;
          serverCid = Buffer.from(msg.subarray(7 + dcidLen, 7 + dcidLen + scidLen));
        }
      },
    });
    cleanups.push(() => proxy.close());
    const conn = await (await client()).connect(await proxy.start());
    expect(await roundTrip(conn, 'before')).toBe('before');
    expect(firstInitial).not.toBeNull();
    expect(serverCid).not.toBeNull();
    const baseline = server.stats();

    const attacker = dgram.createSocket('udp4');
    cleanups.push(() => new Promise((r) => attacker.close(() => r())));
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', r));
    const junk = makeJunk(firstInitial!, serverCid!);
    for (let i = 0; i < junk.length; i++) {
      attacker.send(junk[i]!, at.port, at.host);
      if (i % 200 === 199) await sleep(5);
    }
    // The existing client is served during and after the flood, on the same connection.
    expect(await roundTrip(conn, 'during')).toBe('during');
    await sleep(300);
    expect(await roundTrip(conn, 'after')).toBe('after');
    expect(conn.remotePeerId).not.toBeNull();
    // The junk made no connection (a replayed Initial at most starts a handshake that cannot finish).
    expect(server.stats().connections).toBe(baseline.connections);
    // A new client is accepted too.
    expect(await roundTrip(await (await client()).connect(at), 'new client')).toBe('new client');
    expect(server.stats().connections).toBe(baseline.connections + 1);
  });

  it('accepts a new client promptly while many handshakes hang unfinished', async () => {
    const { server, at } = await echoServer();
    // Twelve clients whose handshakes never finish: the server's answers are dropped on the way back.
    const hanging: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      const blackhole = new UdpProxy(at, { dropFromServer: true });
      cleanups.push(() => blackhole.close());
      const front = await blackhole.start();
      hanging.push((await client(4_000)).connect(front).catch((err: { code?: string }) => err.code));
    }
    await sleep(300);
    const t0 = performance.now();
    const conn = await (await client(3_000)).connect(at);
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect(await roundTrip(conn, 'still open')).toBe('still open');
    expect(server.stats().connections).toBe(1);
    // And the hanging ones never became connections.
    expect(new Set(await Promise.all(hanging))).toEqual(new Set(['connect_timeout']));
    expect(server.stats().connections).toBe(1);
  }, 20_000);
});

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
    const b = randomBytes(1 + serverCid.length + 21 + Math.floor(Math.random() * 1400));
    b[0] = 0x40 | (b[0]! & 0x3f);
    serverCid.copy(b, 1);
    out.push(b);
  }
  // Long-header packets addressed to the live connection.
  for (let i = 0; i < 200; i++) {
    const b = randomBytes(30 + serverCid.length + Math.floor(Math.random() * 1300));
    b[0] = 0xc0 | (b[0]! & 0x3f);
    b.writeUInt32BE(Math.random() < 0.5 ? 1 : 0xbabababa, 1);
    b[5] = serverCid.length;
    serverCid.copy(b, 6);
    out.push(b);
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
