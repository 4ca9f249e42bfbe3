// Fails loudly when @matrixai/quic's undocumented native binding changes
// shape: the driver depends on every member and behaviour checked here.
import { randomBytes, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { quiche as rawQuiche } from '@matrixai/quic/native/index.js';
import {
  classifyNativeError,
  loadQuiche,
  missingBindingMembers,
  type NativeConnection,
} from '../../../server/runtime/transport/native-binding.js';
import { buildNativeConfig, resolveQuicSettings } from '../../../server/runtime/transport/quic-config.js';
import { devIdentity } from './helpers.js';

const require = createRequire(import.meta.url);

function connectedPair(): { client: NativeConnection; server: NativeConnection; pump: () => void } {
  const q = loadQuiche();
  const { key, cert } = devIdentity();
  const config = buildNativeConfig(q, resolveQuicSettings({ key, cert, maxStreamsPerConnection: 2 }));
  const ca = { host: '127.0.0.1', port: 10_001 };
  const sa = { host: '127.0.0.1', port: 10_002 };
  const client = q.Connection.connect(null, randomBytes(20), ca, sa, config);
  const server = q.Connection.accept(randomBytes(20), null, sa, ca, config);
  const buf = Buffer.alloc(65_536);
  const move = (from: NativeConnection, to: NativeConnection, f: typeof ca, t: typeof ca): void => {
    for (let r = from.send(buf); r !== null; r = from.send(buf)) to.recv(buf.subarray(0, r[0]), { from: f, to: t });
  };
  const pump = (): void => {
    for (let i = 0; i < 4; i++) {
      move(client, server, ca, sa);
      move(server, client, sa, ca);
    }
  };
  pump();
  return { client, server, pump };
}

describe('native quiche binding', () => {
  it('is the pinned version', () => {
    const pkg = require('@matrixai/quic/package.json') as { version: string };
    expect(pkg.version).toBe('2.0.9');
  });

  it('has every member the driver calls', () => {
    expect(missingBindingMembers(rawQuiche)).toEqual([]);
    expect(() => loadQuiche()).not.toThrow();
  });

  it('reports a missing member by name', () => {
    const connectionProto = (rawQuiche.Connection as unknown as { prototype: object }).prototype;
    const doctored = {
      ...rawQuiche,
      Connection: Object.assign(function Connection() {}, {
        connect: rawQuiche.Connection.connect,
        accept: rawQuiche.Connection.accept,
        prototype: {
          ...Object.fromEntries(Object.getOwnPropertyNames(connectionProto).map((n) => [n, () => 0])),
          streamSend: undefined,
        },
      }),
    };
    expect(missingBindingMembers(doctored)).toEqual(['Connection#streamSend']);
  });

  it('handshakes with mutual TLS, and both sides see the other certificate', () => {
    const { client, server } = connectedPair();
    expect(client.isEstablished() && server.isEstablished()).toBe(true);
    const der = new X509Certificate(devIdentity().cert).raw;
    for (const side of [client, server]) {
      const chain = side.peerCertChain();
      expect(chain).not.toBeNull();
      expect(Buffer.from(chain![0]!).equals(der)).toBe(true);
      expect(Buffer.from(side.applicationProto()).toString()).toBe('lanspread/1');
    }
  });

  it('returns the tuple shapes the driver destructures', () => {
    const { client, server, pump } = connectedPair();
    expect(client.streamSend(0, Buffer.from('abc'), true)).toBe(3);
    const out = Buffer.alloc(2048);
    const sent = client.send(out);
    expect(Array.isArray(sent) && typeof sent[0] === 'number').toBe(true);
    server.recv(out.subarray(0, sent![0]), { from: { host: '127.0.0.1', port: 10_001 }, to: { host: '127.0.0.1', port: 10_002 } });
    pump();
    expect([...server.readable()]).toEqual([0]);
    expect(server.streamRecv(0, out)).toEqual([3, true]);
    expect(server.streamRecv(0, out)).toBeNull();
    expect(typeof server.timeout()).toBe('number');
    expect(typeof server.peerStreamsLeftBidi()).toBe('number');
  });

  it('raises stream conditions in the format classifyNativeError reads', () => {
    const { client, server, pump } = connectedPair();
    // Zero-length write creates the stream (counts against the peer's limit).
    const before = client.peerStreamsLeftBidi();
    expect(client.streamSend(0, Buffer.alloc(0), false)).toBe(0);
    expect(client.peerStreamsLeftBidi()).toBe(before - 1);
    client.streamSend(0, Buffer.from('x'), false);
    client.streamSend(4, Buffer.from('y'), false);
    // The limit is 2 streams: a third is refused.
    const limit = catchError(() => client.streamSend(8, Buffer.from('z'), false));
    expect(classifyNativeError(limit).kind).toBe('stream_limit');
    pump();
    // Peer stops reading stream 0 (STOP_SENDING 7): our writes fail.
    server.streamShutdown(0, rawQuiche.Shutdown.Read, 7);
    pump();
    const stopped = classifyNativeError(catchError(() => client.streamSend(0, Buffer.from('more'), false)));
    expect(stopped).toMatchObject({ kind: 'stopped', appCode: 7 });
    // Peer resets its side of stream 4 (RESET_STREAM 9): our reads fail.
    server.streamShutdown(4, rawQuiche.Shutdown.Write, 9);
    pump();
    const reset = classifyNativeError(catchError(() => client.streamRecv(4, Buffer.alloc(100))));
    expect(reset).toMatchObject({ kind: 'reset', appCode: 9 });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the binding to throw');
}
