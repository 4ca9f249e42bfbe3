// The one behavioural suite every transport must pass (QUIC and memory alike):
// what the layers above rely on, stated once.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, type Identity } from '../../../server/runtime/transport/identity.js';
import type {
  Endpoint,
  Transport,
  TransportConnection,
  TransportOptions,
  TransportStream,
} from '../../../server/runtime/transport/transport.js';
import { deferred, readAll, settlesWithin, sha256, sleep, streamError, waitDrain, within, writeRandom } from './helpers.js';

export interface TransportHarness {
  name: string;
  /** A fresh, not yet listening transport with this identity. */
  create(identity: Identity, options?: TransportOptions): Transport;
  /**
   * An endpoint on which `server` can be reached, and a way to make it vanish
   * without a word to its peers (crash, cable pulled).
   */
  vanishable(server: Transport, at: Endpoint): Promise<{ at: Endpoint; vanish(): Promise<void> }>;
  /** Streams still tracked by all connections of `t`. */
  streamCount(t: Transport): number;
  /** How a test dials an endpoint returned by listen(). */
  dialable(e: Endpoint): Endpoint;
  /** Scales payloads so the suite stays fast on a small machine. */
  bulkBytes: number;
}

interface Pair {
  server: Transport;
  client: Transport;
  serverEndpoint: Endpoint;
  conn: TransportConnection;
  /** The server's side of `conn`. */
  inbound: Promise<TransportConnection>;
}

export function runTransportCompliance(h: TransportHarness): void {
  describe(`${h.name}: transport compliance`, () => {
    let serverId: Identity;
    let clientId: Identity;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      [serverId, clientId] = await Promise.all([generateIdentity(), generateIdentity()]);
    });

    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    });

    function make(identity: Identity, options: TransportOptions = {}): Transport {
      const t = h.create(identity, options);
      cleanups.push(() => t.close());
      return t;
    }

    async function pair(options: TransportOptions = {}, onStream?: (s: TransportStream) => void): Promise<Pair> {
      const server = make(serverId, options);
      const client = make(clientId, options);
      let resolveInbound!: (c: TransportConnection) => void;
      const inbound = new Promise<TransportConnection>((r) => (resolveInbound = r));
      server.onConnection((c) => {
        if (onStream) c.onStream(onStream);
        resolveInbound(c);
      });
      const serverEndpoint = await server.listen();
      const conn = await client.connect(h.dialable(serverEndpoint));
      return { server, client, serverEndpoint, conn, inbound };
    }

    const echo = (s: TransportStream): void => {
      s.on('error', () => undefined);
      s.pipe(s);
    };

    it('opens a stream and echoes bytes', async () => {
      const { conn } = await pair({}, echo);
      const s = await conn.openStream();
      const reply = readAll(s);
      s.end('hello over the wire');
      expect((await reply).toString()).toBe('hello over the wire');
    });

    it('moves a large payload intact in both directions', async () => {
      const up = h.bulkBytes;
      const down = Math.floor(h.bulkBytes / 3);
      const downHash = deferred<string>();
      const { conn } = await pair({}, (s) => {
        void (async () => {
          const got = await readAll(s);
          s.write(sha256(got));
          downHash.resolve(await writeRandom(s, down));
        })();
      });
      const s = await conn.openStream();
      const reply = readAll(s);
      const upHash = await writeRandom(s, up);
      const back = await reply;
      expect(back.subarray(0, 64).toString()).toBe(upHash);
      expect(back.length).toBe(64 + down);
      expect(sha256(back.subarray(64))).toBe(await downHash.promise);
    });

    it('runs many concurrent streams, more than the stream limit, each intact', async () => {
      const limit = 16;
      // Counted where it cannot race: the server sees a stream only once the
      // client may open it, and its reading ends before the stream can free a
      // slot (the slot frees only once both directions are done).
      let open = 0;
      let maxOpen = 0;
      const { conn } = await pair({ maxStreamsPerConnection: limit }, (s) => {
        open++;
        maxOpen = Math.max(maxOpen, open);
        s.once('end', () => open--);
        echo(s);
      });
      const one = async (i: number): Promise<boolean> => {
        const s = await conn.openStream();
        const data = randomBytes(1024 + ((i * 7919) % 48_000));
        const reply = readAll(s);
        s.end(data);
        return (await reply).equals(data);
      };
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
      expect(results.every(Boolean)).toBe(true);
      expect(maxOpen).toBeGreaterThan(1);
      expect(maxOpen).toBeLessThanOrEqual(limit);
    });

    it('throttles a writer whose reader does not read, then delivers everything', async () => {
      let serverStream: TransportStream | null = null;
      // Windows well under the bound below, so the bound shows they hold.
      const windows = { streamWindowBytes: 4 * 1024 * 1024, connectionWindowBytes: 8 * 1024 * 1024 };
      const { conn } = await pair(windows, (s) => {
        serverStream = s; // not read until later
      });
      const s = await conn.openStream();
      const total = 32 * 1024 * 1024;
      const chunk = 64 * 1024;
      let accepted = 0;
      let written = 0;
      const done = (async () => {
        s.on('error', () => undefined);
        while (written < total) {
          const piece = Buffer.alloc(chunk, written / chunk);
          written += chunk;
          const ok = s.write(piece, () => (accepted += chunk));
          if (!ok) await waitDrain(s);
        }
        await new Promise<void>((resolve) => s.end(resolve));
      })();
      // Let the sender run into the stall.
      let last = -1;
      for (let i = 0; i < 60 && accepted !== last; i++) {
        last = accepted;
        await sleep(150);
      }
      expect(serverStream).not.toBeNull();
      const receiver = serverStream! as TransportStream;
      const senderBuffered = accepted + s.writableLength;
      expect(accepted).toBeGreaterThan(0);
      expect(senderBuffered).toBeLessThan(12 * 1024 * 1024);
      expect(receiver.readableLength).toBeLessThanOrEqual(2 * receiver.readableHighWaterMark + 512 * 1024);
      // Now read: everything arrives, in order.
      let got = 0;
      let inOrder = true;
      receiver.on('data', (c: Buffer) => {
        for (let i = 0; i < c.length; i += 4096) {
          if (c[i] !== Math.floor((got + i) / chunk) % 256) inOrder = false;
        }
        got += c.length;
      });
      await within(new Promise((r) => receiver.once('end', r)), 20_000, 'reading the backlog');
      await done;
      expect(got).toBe(total);
      expect(inOrder).toBe(true);
    });

    it('reuses one dialled connection per endpoint', async () => {
      let inboundCount = 0;
      const server = make(serverId);
      const client = make(clientId);
      const inbound = new Promise<TransportConnection>((resolve) =>
        server.onConnection((c) => {
          inboundCount++;
          resolve(c);
        }),
      );
      const at = h.dialable(await server.listen());
      const [a, b] = await Promise.all([client.connect(at), client.connect(at)]);
      expect(a).toBe(b);
      expect(await client.connect(at)).toBe(a);
      await inbound;
      await sleep(100);
      expect(inboundCount).toBe(1);
      // Once it is closed, the next connect() dials anew.
      await a.close();
      const again = await client.connect(at);
      expect(again).not.toBe(a);
      await within(
        (async () => {
          while (inboundCount < 2) await sleep(10);
        })(),
        3000,
        'second inbound connection',
      );
    });

    it('ends streams cleanly and forgets them', async () => {
      const { server, client, conn } = await pair({}, echo);
      for (let i = 0; i < 20; i++) {
        const s = await conn.openStream();
        const reply = readAll(s);
        s.end(`message ${i}`);
        expect((await reply).toString()).toBe(`message ${i}`);
      }
      await sleep(200);
      expect(h.streamCount(client)).toBe(0);
      expect(h.streamCount(server)).toBe(0);
    });

    it('resets the peer when a stream is destroyed', async () => {
      const got = deferred<TransportStream>();
      const { conn } = await pair({}, (s) => {
        s.once('data', () => got.resolve(s));
      });
      const s = await conn.openStream();
      s.write('partial request');
      const serverStream = await within(got.promise, 5000, 'server got data');
      const failure = streamError(serverStream);
      s.destroy();
      expect((await failure).code).toBe('stream_reset');
    });

    it('tells a writer when the reader gives up on the stream', async () => {
      // The usual shape: a request, then a long answer the requester cancels.
      const serverFailure = deferred<Error & { code?: string }>();
      const { conn } = await pair({}, (s) => {
        void (async () => {
          const failure = streamError(s, 10_000);
          await readAll(s);
          void writeRandom(s, 256 * 1024 * 1024).catch(() => undefined);
          serverFailure.resolve(await failure);
        })();
      });
      const s = await conn.openStream();
      s.end('send me a lot');
      await new Promise((resolve) => s.once('data', resolve));
      s.destroy();
      const err = await within(serverFailure.promise, 10_000, 'writer told');
      expect(err.code).toBe('stream_stopped');
    });

    it('fails the other side when a reader gives up while both still talk', async () => {
      const { conn } = await pair({}, (s) => {
        s.once('data', () => s.destroy());
      });
      const s = await conn.openStream();
      const failure = streamError(s, 10_000);
      void writeRandom(s, 64 * 1024 * 1024).catch(() => undefined);
      expect(['stream_stopped', 'stream_reset']).toContain((await failure).code);
    });

    it('closes a connection: open streams fail, both sides resolve closed', async () => {
      const got = deferred<TransportStream>();
      const { conn, inbound } = await pair({}, (s) => {
        s.once('data', () => got.resolve(s));
      });
      const s = await conn.openStream();
      s.on('error', () => undefined);
      s.write('hold this open');
      const serverStream = await within(got.promise, 5000, 'server got the stream');
      const serverFailure = streamError(serverStream);
      const serverConn = await inbound;
      await conn.close();
      await within(conn.closed, 1000, 'local closed');
      await within(serverConn.closed, 3000, 'peer closed');
      expect((await serverFailure).code).toBe('connection_closed');
      await expect(conn.openStream()).rejects.toMatchObject({ code: 'connection_closed' });
    });

    it('closing a transport closes its connections at the peer', async () => {
      const { client, inbound } = await pair({}, echo);
      const serverConn = await inbound;
      await client.close();
      await within(serverConn.closed, 3000, 'peer closed');
    });

    it('keeps an idle connection alive, and notices a vanished peer within the idle timeout', async () => {
      const idleTimeoutMs = 1200;
      const options = { idleTimeoutMs, keepAliveIntervalMs: 300 };
      const server = make(serverId, options);
      const client = make(clientId, options);
      server.onConnection((c) => c.onStream(echo));
      const relay = await h.vanishable(server, h.dialable(await server.listen()));
      const conn = await client.connect(relay.at);
      const s = await conn.openStream();
      const reply = readAll(s);
      s.end('ping');
      expect((await reply).toString()).toBe('ping');
      // Idle for longer than the timeout: keep-alives hold it open.
      expect(await settlesWithin(conn.closed, idleTimeoutMs * 1.5)).toBe(false);
      const t0 = performance.now();
      await relay.vanish();
      await within(conn.closed, idleTimeoutMs + 1500, 'closed after the peer vanished');
      const elapsed = performance.now() - t0;
      // Nothing told us: only the idle timeout can have closed it.
      expect(elapsed).toBeGreaterThanOrEqual(idleTimeoutMs * 0.5);
    });

    it('tells each side the peer id the other proved', async () => {
      const { conn, inbound } = await pair({}, echo);
      const serverConn = await inbound;
      expect(conn.remotePeerId).toBe(serverId.peerId);
      expect(serverConn.remotePeerId).toBe(clientId.peerId);
      expect(conn.remotePeerId).not.toBe(serverConn.remotePeerId);
      expect(conn.remotePeerId).toMatch(/^[0-9a-f]{32}$/);
    });

    it('fails to connect where nobody listens', async () => {
      const server = make(serverId);
      const at = h.dialable(await server.listen());
      await server.close();
      const client = make(clientId, { connectTimeoutMs: 600 });
      const t0 = performance.now();
      await expect(client.connect(at)).rejects.toSatisfy((e: { code?: string }) =>
        ['connect_failed', 'connect_timeout'].includes(e.code ?? ''),
      );
      expect(performance.now() - t0).toBeLessThan(2000);
    });

    it('survives peer streams nobody handles and resets nobody listens to', async () => {
      const server = make(serverId);
      const client = make(clientId);
      let serverConn!: TransportConnection;
      server.onConnection((c) => (serverConn = c)); // never sets onStream
      const at = h.dialable(await server.listen());
      const conn = await client.connect(at);
      for (let i = 0; i < 5; i++) {
        const s = await conn.openStream();
        s.write('unhandled');
        if (i % 2) s.destroy();
      }
      await sleep(100);
      // Streams arriving before a handler are held for it.
      const late = new Promise<TransportStream>((resolve) => serverConn.onStream(resolve));
      const first = await within(late, 2000, 'held stream');
      first.destroy();
      await conn.close();
      await within(serverConn.closed, 3000, 'peer closed');
    });
  });
}
