// Swarms between in-process nodes on the in-memory transport (64 KiB chunks):
// every node's upload limit stands in for its uplink. The same behaviours run
// with real processes over QUIC on rate-limited test hosts in
// test/scenarios/swarm.test.ts.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { startMemoryNode } from '../../helpers/peers.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';

const MiB = 1024 * 1024;
type Node = Awaited<ReturnType<typeof startMemoryNode>>;

/** A seed holding `payload` and `players` nodes that all know each other, every one limited to `uplink` bytes/s. */
async function room(players: number, payload: Buffer, uplink: number, swarm = true) {
  const net = new MemoryNetwork();
  const ports = Array.from({ length: players + 1 }, (_, i) => 300 + i);
  const seedDir = await tempDir();
  await makeGame(seedDir, 'alpha', { version: '20240101', files: { 'alpha.eti': payload } });
  const nodes: Node[] = [];
  for (const [i, port] of ports.entries()) {
    nodes.push(
      await startMemoryNode({
        net,
        port,
        peers: ports.filter((p) => p !== port),
        uploadLimit: uplink,
        swarm,
        ...(i === 0 ? { gameDir: seedDir } : {}),
      }),
    );
  }
  const [seed, ...rest] = nodes as [Node, ...Node[]];
  for (const p of rest) {
    await waitFor(
      () => (p.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 && p.runtime.peers().length === players ? true : undefined),
      5_000,
      'room ready',
    );
  }
  return { seed, players: rest };
}

async function downloadAll(players: Node[]): Promise<void> {
  await Promise.all(players.map((p) => p.runtime.execute({ type: 'GetGame', id: 'alpha', install: false })));
  for (const p of players) {
    await waitFor(
      () => {
        const g = p.runtime.games().find((x) => x.id === 'alpha');
        if (g?.lastError) throw new Error(`${g.lastError.code}: ${g.lastError.message}`);
        return g?.downloaded && !g.operation ? true : undefined;
      },
      30_000,
      'every player done',
    );
  }
}

describe('swarm (in-memory transport)', () => {
  it('players serve each other verified chunks: the seed sends well under one copy per player', async () => {
    const payload = randomBytes(2 * MiB);
    const { seed, players } = await room(3, payload, MiB);
    await downloadAll(players);
    for (const p of players) {
      expect(Buffer.compare(await fs.readFile(path.join(p.gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
      // every player sent bytes to the others
      expect(p.runtime.stats.uploadedBytes).toBeGreaterThan(0);
      const fromPlayers = p.runtime.lastDownload('alpha')!.deliveries.filter((d) => d.peerId !== seed.runtime.peerId);
      expect(fromPlayers.length).toBeGreaterThan(0);
    }
    // complete holders only, the seed would send 3 copies
    expect(seed.runtime.stats.uploadedBytes).toBeLessThan(2 * payload.length);
  });

  it('with the swarm off, only the seed serves (the comparison the bench makes)', async () => {
    const payload = randomBytes(MiB);
    const { seed, players } = await room(2, payload, 4 * MiB, false);
    await downloadAll(players);
    for (const p of players) {
      expect(p.runtime.stats.uploadedBytes).toBe(0);
      expect(Object.keys(p.runtime.lastDownload('alpha')!.chunksByPeer)).toEqual([seed.runtime.peerId]);
    }
    expect(seed.runtime.stats.uploadedBytes).toBeGreaterThanOrEqual(2 * payload.length);
  });
});
