// Random, truncated and oversized frames thrown at a real node's QUIC port:
// the node answers with errors or closes the stream, never crashes, and keeps
// serving others. Scenario id F1 in docs/SCENARIOS.md.
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeFrame, readMessage } from '../../server/runtime/transport/framing.js';
import type { TransportConnection } from '../../server/runtime/transport/transport.js';
import { getJson } from '../helpers/api.js';
import { rawRequest } from '../helpers/peers.js';
import { startNode } from '../helpers/node-process.js';
import { quicClient } from '../helpers/quic-client.js';
import { makeGame, tempDir } from '../helpers/temp-dir.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now());

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** One hostile stream body, chosen at random. */
function hostileBody(i: number): Buffer {
  switch (i % 8) {
    case 0:
      return randomBytes(randomInt(1, 4096)); // noise
    case 1:
      return Buffer.concat([lengthPrefix(0x7fffffff), randomBytes(64)]); // oversized declared length
    case 2:
      return encodeFrame({ type: 'GetGameFileChunk', id: 'openttd', path: 'openttd.eti', offset: 0, length: 10 }).subarray(
        0,
        randomInt(1, 20),
      ); // truncated
    case 3:
      return encodeFrame({
        type: ['Hello', 'Ping', 'ListGames', 'GetGame', 'Nope'][randomInt(5)],
        id: randomBytes(8).toString('hex'),
        path: '../'.repeat(randomInt(1, 50)),
        offset: -randomInt(1000),
      }); // wrong fields
    case 4: {
      const deep = Buffer.from('['.repeat(30_000) + ']'.repeat(30_000)); // nesting deep enough to blow a naive parser
      return Buffer.concat([lengthPrefix(deep.length), deep]);
    }
    case 5:
      return Buffer.concat([lengthPrefix(100), Buffer.from('{"type":"Ping"'), randomBytes(86)]); // bad UTF-8/JSON body
    case 6:
      return encodeFrame({ type: 'Hello', peer_id: 'zz', proto_version: 1e9, listen_port: 70000, name: 'x'.repeat(5000) });
    default:
      return Buffer.concat([encodeFrame({ type: 'Ping' }), randomBytes(randomInt(1, 1000))]); // trailing garbage
  }
}

async function throwAt(conn: TransportConnection, body: Buffer): Promise<void> {
  const stream = await conn.openStream();
  stream.on('error', () => undefined);
  stream.end(body);
  await Promise.race([readMessage(stream).catch(() => undefined), new Promise((r) => setTimeout(r, 2_000))]);
  stream.destroy();
}

describe('fuzzing a node with hostile frames', () => {
  it(`F1: 400 hostile streams leave the node up and serving (seed ${SEED})`, async () => {
    const games = await tempDir();
    await makeGame(games, 'openttd', { version: '20240601', files: { 'openttd.eti': 'the real bytes' } });
    const node = await startNode({ games, state: await tempDir(), args: ['--quic-port', '0'] });
    onTestFinished(() => node.stop('SIGKILL'));
    const attacker = await quicClient(node.quicPort);
    const bystander = await quicClient(node.quicPort);
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => throwAt(attacker, hostileBody(round * 20 + k))));
      // a well-behaved peer is served in between
      const pong = await rawRequest(bystander, { type: 'Ping' });
      expect(pong.answer.type).toBe('Pong');
    }
    const file = await rawRequest(bystander, { type: 'GetGameFileData', id: 'openttd', path: 'openttd.eti' });
    expect(file.bytes.toString()).toBe('the real bytes');
    expect(await getJson<{ ok: boolean }>(node.url, '/api/health')).toMatchObject({ ok: true });
    expect(node.child.exitCode).toBeNull();
  }, 120_000);
});
