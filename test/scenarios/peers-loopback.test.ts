// Real `lanspread serve` processes talking QUIC over loopback, peers given with
// --peer. Scenario ids P1–P7 in docs/SCENARIOS.md.
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PROTO_VERSION } from '../../shared/wire.js';
import { gamesOf, healthOf, peersOf } from '../helpers/api.js';
import { rawRequest } from '../helpers/peers.js';
import { quicClient } from '../helpers/quic-client.js';
import { startNode, type NodeProcess, type StartNodeOptions } from '../helpers/node-process.js';
import { makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';

async function node(opts: Partial<StartNodeOptions> & { peers?: number[] } = {}): Promise<NodeProcess & { games: string; state: string }> {
  const games = opts.games ?? (await tempDir());
  const state = opts.state ?? (await tempDir());
  const given = opts.args ?? [];
  const args = [
    ...given,
    ...(given.includes('--quic-port') ? [] : ['--quic-port', '0']),
    ...(opts.peers ?? []).flatMap((p) => ['--peer', `127.0.0.1:${p}`]),
  ];
  const n = await startNode({ ...opts, games, state, args });
  onTestFinished(() => n.stop('SIGKILL'));
  return { ...n, games, state };
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const ids = async (n: NodeProcess) => (await peersOf(n)).map((p) => p.peerId).sort();

describe('peers over QUIC on loopback (real processes)', () => {
  it('P1: two nodes list each other and each other’s games within 10 s, both ways', async () => {
    const aGames = await tempDir();
    const bGames = await tempDir();
    await makeGame(aGames, 'openttd', { version: '20240601', files: { 'openttd.eti': 'a' } });
    await makeGame(aGames, 'wesnoth', { version: '20240505' });
    await makeGame(aGames, 'hedgewars', { version: '20240115', installed: true });
    await makeGame(bGames, 'xonotic', { version: '20240210' });
    const a = await node({ games: aGames });
    const b = await node({ games: bGames, peers: [a.quicPort] });
    const [ha, hb] = await Promise.all([healthOf(a), healthOf(b)]);
    await waitFor(async () => ((await ids(a)).length === 1 && (await ids(b)).length === 1 ? true : undefined), 10_000, 'peering');
    expect(await ids(a)).toEqual([hb.peerId]);
    expect(await ids(b)).toEqual([ha.peerId]);
    await waitFor(
      async () => ((await peersOf(b))[0]?.games === 3 && (await peersOf(a))[0]?.games === 1 ? true : undefined),
      10_000,
      'game counts',
    );
    const bSees = await gamesOf(b);
    expect(
      bSees
        .filter((g) => g.peers > 0)
        .map((g) => g.id)
        .sort(),
    ).toEqual(['hedgewars', 'openttd', 'wesnoth']);
    const aSees = await gamesOf(a);
    expect(aSees.filter((g) => g.peers > 0).map((g) => g.id)).toEqual(['xonotic']);
    const seen = await waitFor(
      async () => {
        const p = (await peersOf(a))[0];
        return p?.rttMs !== null ? p : undefined;
      },
      10_000,
      'a measured rtt',
    );
    expect(seen).toMatchObject({ address: `127.0.0.1:${b.quicPort}`, rttMs: expect.any(Number) });
    expect(seen.rttMs).toBeGreaterThan(0);
  });

  it('P2: three nodes all see each other', async () => {
    const a = await node();
    const b = await node({ peers: [a.quicPort] });
    const c = await node({ peers: [a.quicPort, b.quicPort] });
    const all = (await Promise.all([a, b, c].map(healthOf))).map((h) => h.peerId);
    await waitFor(async () => ((await Promise.all([a, b, c].map(ids))).every((l) => l.length === 2) ? true : undefined), 10_000, 'mesh');
    for (const [i, n] of [a, b, c].entries()) expect(await ids(n)).toEqual(all.filter((_, j) => j !== i).sort());
  });

  it('P3: a node hard-killed and restarted keeps its identity and appears once', async () => {
    // short liveness so the watch below outlasts the dead connection's timeout
    const env = { LANSPREAD_PING_INTERVAL_MS: '500', LANSPREAD_PEER_TIMEOUT_MS: '2500' };
    const a = await node({ env });
    const b = await node({ peers: [a.quicPort], env });
    const hb = await healthOf(b);
    await waitFor(async () => ((await ids(a)).length === 1 ? true : undefined), 10_000, 'first peering');
    await b.stop('SIGKILL');
    const b2 = await node({ games: b.games, state: b.state, peers: [a.quicPort], env });
    expect((await healthOf(b2)).peerId).toBe(hb.peerId);
    await waitFor(async () => ((await ids(b2)).length === 1 ? true : undefined), 10_000, 'restarted b peers again');
    // a lists b exactly once, and keeps it (the new connection replaced the dead one)
    for (let i = 0; i < 16; i++) {
      expect(await ids(a)).toEqual([hb.peerId]);
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  it('P4: a killed node leaves the others’ peer lists within the timeout', async () => {
    const a = await node();
    const b = await node({ peers: [a.quicPort] });
    await waitFor(async () => ((await ids(a)).length === 1 ? true : undefined), 10_000, 'peering');
    const killedAt = Date.now();
    await b.stop('SIGKILL');
    await waitFor(async () => ((await ids(a)).length === 0 ? true : undefined), 20_000, 'a drops b');
    // peer timeout 10 s + one ping interval, with slack for a loaded machine
    expect(Date.now() - killedAt).toBeLessThan(16_000);
  });

  it('P5: a node never lists itself, even when given its own address', async () => {
    const a = await node();
    const port = await freeUdpPort();
    // given itself and a: it must list a (so peering works here) and never itself
    const n = await node({ args: ['--quic-port', String(port), '--peer', `127.0.0.1:${port}`, '--peer', `127.0.0.1:${a.quicPort}`] });
    expect(n.quicPort).toBe(port);
    const ha = await healthOf(a);
    await waitFor(async () => ((await ids(n)).length === 1 ? true : undefined), 10_000, 'peering with a');
    for (let i = 0; i < 6; i++) {
      expect(await ids(n)).toEqual([ha.peerId]);
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  it('P6: games outside the catalog are announced by their owner but filtered by the others', async () => {
    const catalogFile = path.join(await tempDir(), 'catalog.json');
    const base = JSON.parse(await fs.readFile(path.join(process.cwd(), 'server/runtime/library/default-catalog.json'), 'utf8')) as {
      games: object[];
    };
    await fs.writeFile(
      catalogFile,
      JSON.stringify({ games: [...base.games, { id: 'homebrew', name: 'Homebrew', description: 'only on b', size: 1, eti_version: '1' }] }),
    );
    const bGames = await tempDir();
    await makeGame(bGames, 'homebrew', { version: '1' });
    await makeGame(bGames, 'openra', { version: '20240328' });
    const a = await node();
    const b = await node({ games: bGames, catalog: catalogFile, peers: [a.quicPort] });
    // b announces homebrew (its own catalog has it)…
    expect((await gamesOf(b)).find((g) => g.id === 'homebrew')?.downloaded).toBe(true);
    await waitFor(async () => ((await peersOf(a))[0]?.games === 1 ? true : undefined), 10_000, 'a counts b’s games');
    // …a, whose catalog lacks it, shows only openra from b
    const aSees = await gamesOf(a);
    expect(aSees.find((g) => g.id === 'homebrew')).toBeUndefined();
    expect(aSees.find((g) => g.id === 'openra')?.peers).toBe(1);
  });

  it('P7: a Hello claiming another node’s peer id is refused; the same client saying its own id is listed', async () => {
    const a = await node();
    const b = await node({ peers: [a.quicPort] });
    const bId = (await healthOf(b)).peerId;
    await waitFor(async () => ((await ids(a)).includes(bId) ? true : undefined), 10_000, 'a lists b');
    const hello = (peer_id: string) => ({ type: 'Hello', peer_id, proto_version: PROTO_VERSION, listen_port: 1, name: 'impostor' });
    // The handshake proves the client's own key; b's id is not its to claim.
    const impostor = await quicClient(a.quicPort);
    let closed = false;
    void impostor.closed.then(() => (closed = true));
    expect((await rawRequest(impostor, hello(bId))).answer).toMatchObject({ type: 'Error', code: 'identity_mismatch' });
    await waitFor(() => (closed ? true : undefined), 5_000, 'a closes it');
    expect((await peersOf(a)).map((p) => [p.peerId, p.name])).toEqual([[bId, (await healthOf(b)).name]]);
    // So the check can fail: the same kind of client with its own id is accepted.
    const honest = await quicClient(a.quicPort);
    expect((await rawRequest(honest, hello(honest.identity.peerId))).answer).toMatchObject({
      type: 'Hello',
      peer_id: (await healthOf(a)).peerId,
    });
    await waitFor(async () => ((await ids(a)).includes(honest.identity.peerId) ? true : undefined), 5_000, 'a lists the honest client');
  });
});
