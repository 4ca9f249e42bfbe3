// Peer membership, library exchange, identity and liveness between in-process
// nodes on the in-memory transport (the same runtime code as real nodes).
import { PROTO_VERSION } from '../../../shared/wire.js';
import { describe, expect, it } from 'vitest';
import type { PeerEvent } from '../../../shared/events.js';
import { Catalog } from '../../../server/runtime/library/catalog.js';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';
import { testCatalog, testEntry } from '../../helpers/runtime.js';
import { identity, rawClient, rawRequest, startMemoryNode } from '../../helpers/peers.js';

const peerIds = (r: { peers(): { peerId: string }[] }) =>
  r
    .peers()
    .map((p) => p.peerId)
    .sort();

describe('peer membership', () => {
  it('two nodes given each other by hand converge both ways', async () => {
    const net = new MemoryNetwork();
    const aGames = await tempDir();
    const bGames = await tempDir();
    await makeGame(aGames, 'alpha', { version: '20240101' });
    await makeGame(bGames, 'bravo', { version: '20240301' });
    await makeGame(bGames, 'charlie', { version: '20231201', installed: true });
    const a = await startMemoryNode({ net, port: 1, peers: [2], gameDir: aGames });
    const b = await startMemoryNode({ net, port: 2, gameDir: bGames });
    await waitFor(() => (a.runtime.peers().length === 1 && b.runtime.peers().length === 1 ? true : undefined), 3_000, 'peering');
    expect(peerIds(a.runtime)).toEqual([b.runtime.peerId]);
    expect(peerIds(b.runtime)).toEqual([a.runtime.peerId]);
    // a sees b's two games, b sees a's one
    await waitFor(() => (a.runtime.games().find((g) => g.id === 'bravo')?.peers === 1 ? true : undefined), 3_000, 'a sees bravo');
    await waitFor(() => (b.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'b sees alpha');
    expect(a.runtime.games().find((g) => g.id === 'bravo')).toMatchObject({ downloaded: false, peers: 1, latestVersion: '20240301' });
    await waitFor(() => (a.runtime.peers()[0]?.rttMs != null ? true : undefined), 3_000, 'rtt measured');
    expect(a.runtime.peers()[0]).toMatchObject({ games: 2, rttMs: expect.any(Number) });
    expect(b.runtime.peers()[0]).toMatchObject({ games: 1 });
    // what b holds of bravo: its only file, version.ini
    const bravoSize = Buffer.byteLength('20240301\n');
    expect(a.runtime.game('bravo').sources).toEqual([
      { peerId: b.runtime.peerId, name: 'node-2', version: '20240301', complete: true, bytesHave: bravoSize, receivingSpeed: 0 },
    ]);
    // a change on b reaches a through the library revision in Pong
    await makeGame(bGames, 'alpha', { version: '20250101' });
    await waitFor(
      () => (a.runtime.games().find((g) => g.id === 'alpha')?.latestVersion === '20250101' ? true : undefined),
      3_000,
      'new version',
    );
  });

  it('three nodes all see each other', async () => {
    const net = new MemoryNetwork();
    const a = await startMemoryNode({ net, port: 11, peers: [12, 13] });
    const b = await startMemoryNode({ net, port: 12, peers: [13] });
    const c = await startMemoryNode({ net, port: 13 });
    const all = [a, b, c].map((n) => n.runtime.peerId);
    await waitFor(() => ([a, b, c].every((n) => n.runtime.peers().length === 2) ? true : undefined), 3_000, 'full mesh');
    for (const n of [a, b, c]) expect(peerIds(n.runtime)).toEqual(all.filter((id) => id !== n.runtime.peerId).sort());
  });

  it('never lists itself: a --peer to itself, and a Hello carrying its own id', async () => {
    const net = new MemoryNetwork();
    const a = await startMemoryNode({ net, port: 21, peers: [21] });
    const other = await identity(1);
    const conn = await rawClient(net, 21, other);
    const hello = await rawRequest(conn, {
      type: 'Hello',
      peer_id: a.runtime.peerId,
      proto_version: PROTO_VERSION,
      listen_port: 99,
      name: 'me?',
    });
    expect(hello.answer).toMatchObject({ type: 'Hello', peer_id: a.runtime.peerId });
    await new Promise((r) => setTimeout(r, 400));
    expect(a.runtime.peers()).toEqual([]);
    // and a Hello with another id does register (so the check above can fail)
    await rawRequest(conn, { type: 'Hello', peer_id: other.peerId, proto_version: PROTO_VERSION, listen_port: 99, name: 'other' });
    expect(peerIds(a.runtime)).toEqual([other.peerId]);
  });

  it('refuses a Hello whose peer id is not the one the connection proved', async () => {
    const net = new MemoryNetwork();
    const a = await startMemoryNode({ net, port: 31 });
    const [honestId, impostorId] = [await identity(1), await identity(2)];
    const hello = (peer_id: string, name: string) => ({
      type: 'Hello' as const,
      peer_id,
      proto_version: PROTO_VERSION,
      listen_port: 1,
      name,
    });
    const honest = await rawClient(net, 31, honestId);
    expect((await rawRequest(honest, hello(honestId.peerId, 'honest'))).answer.type).toBe('Hello');
    // Another key claiming the honest id, and one claiming an id nobody has used yet.
    const impostor = await rawClient(net, 31, impostorId);
    const refused = await rawRequest(impostor, hello(honestId.peerId, 'impostor'));
    expect(refused.answer).toMatchObject({ type: 'Error', code: 'identity_mismatch' });
    const invented = await rawClient(net, 31, impostorId);
    expect((await rawRequest(invented, hello('ef'.repeat(16), 'invented'))).answer).toMatchObject({ code: 'identity_mismatch' });
    expect(a.runtime.peers().map((p) => [p.peerId, p.name])).toEqual([[honestId.peerId, 'honest']]);
  });

  it('drops a peer that goes silent, and its games leave the library', async () => {
    const net = new MemoryNetwork();
    const bGames = await tempDir();
    await makeGame(bGames, 'bravo', { version: '20240301' });
    const a = await startMemoryNode({ net, port: 41, peers: [42] });
    const b = await startMemoryNode({ net, port: 42, gameDir: bGames });
    const events: PeerEvent[] = [];
    a.runtime.subscribe((e) => events.push(e));
    await waitFor(() => (a.runtime.games().find((g) => g.id === 'bravo')?.peers === 1 ? true : undefined), 3_000, 'a sees bravo');
    await b.runtime.close();
    await waitFor(() => (a.runtime.peers().length === 0 ? true : undefined), 3_000, 'b dropped');
    expect(events).toContainEqual({ type: 'PeerDisconnected', peerId: b.runtime.peerId });
    expect(events).toContainEqual({ type: 'PeerCount', count: 0 });
    expect(a.runtime.games().find((g) => g.id === 'bravo')?.peers).toBe(0);
  });

  it('a restarted peer keeps its id and appears once', async () => {
    const net = new MemoryNetwork();
    const bState = await tempDir();
    const a = await startMemoryNode({ net, port: 51, peers: [52] });
    const b1 = await startMemoryNode({ net, port: 52, stateDir: bState });
    await waitFor(() => (a.runtime.peers().length === 1 ? true : undefined), 3_000, 'first peering');
    await b1.runtime.close();
    const b2 = await startMemoryNode({ net, port: 52, stateDir: bState });
    expect(b2.runtime.peerId).toBe(b1.runtime.peerId);
    await waitFor(() => (b2.runtime.peers().length === 1 ? true : undefined), 3_000, 'second peering');
    for (let i = 0; i < 5; i++) {
      expect(peerIds(a.runtime)).toEqual([b1.runtime.peerId]);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('filters what peers announce through its own catalog', async () => {
    const net = new MemoryNetwork();
    const bCatalog = new Catalog([...testCatalog.entries, testEntry('delta')]);
    const bGames = await tempDir();
    await makeGame(bGames, 'delta', { version: '1' });
    await makeGame(bGames, 'alpha', { version: '1' });
    const a = await startMemoryNode({ net, port: 61, peers: [62] });
    await startMemoryNode({ net, port: 62, gameDir: bGames, catalog: bCatalog });
    // b really announces delta…
    const raw = await rawRequest(await rawClient(net, 62), { type: 'ListGames' });
    expect((raw.answer as { games: { id: string }[] }).games.map((g) => g.id).sort()).toEqual(['alpha', 'delta']);
    // …and a keeps only alpha
    await waitFor(() => (a.runtime.peers()[0]?.games === 1 ? true : undefined), 3_000, 'a counts one game of b');
    expect(a.runtime.games().map((g) => g.id)).not.toContain('delta');
    expect(a.runtime.games().find((g) => g.id === 'alpha')?.peers).toBe(1);
  });
});
