// The swarm between real processes over QUIC on test hosts whose links are all
// limited to 40 Mbit/s with `tc tbf` on both veth ends (test/helpers/netns.ts):
// one seed, six players, a 64 MiB game, every player clicking Download in the
// same tick. Scenario ids SW1–SW2 in docs/SCENARIOS.md. Times are not asserted
// here (`npm run bench -- swarm` measures them); what is asserted is who sent
// what, that every player ends with the seed's bytes, and what happens to a
// player that dies, lies, or holds another version.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GameDetail, Peer, Stats } from '../../shared/api.js';
import { HOST_QUIC_PORT, startHostNode, type HostNode } from '../helpers/host-node.js';
import { canRateLimit, createNetwork } from '../helpers/netns.js';
import { requirePrerequisite, skipSuite } from '../helpers/skip.js';
import { makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';

const support = canRateLimit();
const ID = 'openttd';
/** the catalog's version: the seed's copy is the one to download */
const VERSION = '20240601';
const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const PLAYERS = 6;
/** chunks of a 64 MiB file (server/runtime/content/chunks.ts) */
const CHUNK = 256 * 1024;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gameFile = (n: HostNode) => path.join(n.games, ID, `${ID}.eti`);

interface Room {
  seed: HostNode;
  players: HostNode[];
  /** a node holding an older version of the game, complete (S1 only) */
  other: HostNode | null;
  payload: Buffer;
}

/** A seed with the game, `PLAYERS` empty players and maybe a node with another version, in a full mesh at 40 Mbit/s. */
async function room(withOtherVersion: boolean): Promise<Room> {
  const count = 1 + PLAYERS + (withOtherVersion ? 1 : 0);
  const net = await createNetwork(count, { rate: { mbit: 40 } });
  const endpoints = net.hosts.map((h) => `${h.address}:${HOST_QUIC_PORT}`);
  const payload = randomBytes(SIZE);
  const dirs = await Promise.all(net.hosts.map(() => tempDir()));
  await makeGame(dirs[0]!, ID, { version: VERSION, files: { [`${ID}.eti`]: payload } });
  if (withOtherVersion) {
    // the same file name and size, other bytes: its chunks would fail every hash, had they been asked for
    await makeGame(dirs[count - 1]!, ID, { version: '20230101', files: { [`${ID}.eti`]: randomBytes(SIZE) } });
  }
  const nodes = await Promise.all(
    net.hosts.map((host, i) =>
      startHostNode(host, {
        name: i === 0 ? 'seed' : i <= PLAYERS ? `player-${i}` : 'other',
        games: dirs[i]!,
        state: `${dirs[i]}.state`,
        peers: endpoints.filter((_, j) => j !== i),
      }),
    ),
  );
  const [seed, ...rest] = nodes as [HostNode, ...HostNode[]];
  const players = rest.slice(0, PLAYERS);
  await waitFor(
    async () => {
      const peers = await Promise.all(nodes.map((n) => n.api.get<Peer[]>('/api/peers')));
      if (peers.some((p) => p.length !== count - 1)) return undefined;
      const games = await Promise.all(players.map((p) => p.api.get<GameDetail>(`/api/games/${ID}`)));
      return games.every((g) => g.latestVersion === VERSION && g.sources.some((s) => s.version === VERSION)) ? true : undefined;
    },
    60_000,
    'a full mesh that sees the seed',
  );
  return { seed, players, other: withOtherVersion ? rest[PLAYERS]! : null, payload };
}

const clickAll = (players: HostNode[]) => Promise.all(players.map((p) => p.api.post(`/api/games/${ID}/download`, { install: false })));

/** Wait until every player in `players` has the game downloaded; a lastError fails. */
async function allDone(players: HostNode[]): Promise<void> {
  await waitFor(
    async () => {
      const games = await Promise.all(players.map((p) => p.api.get<GameDetail>(`/api/games/${ID}`)));
      for (const [i, g] of games.entries()) {
        if (g.lastError) throw new Error(`${players[i]!.name}: ${g.lastError.code}: ${g.lastError.message}`);
      }
      return games.every((g) => g.downloaded && g.operation === null) ? true : undefined;
    },
    180_000,
    'every player done',
  );
}

const progress = async (p: HostNode) => (await p.api.get<GameDetail>(`/api/games/${ID}`)).operation?.bytesDone ?? 0;
const peerIdOf = async (n: HostNode) => (await n.api.get<{ peerId: string }>('/api/health')).peerId;

describe.skipIf(skipSuite(support, 'rate-limited test hosts'))('swarm between real processes on 40 Mbit/s links', () => {
  beforeAll(() => requirePrerequisite(support, 'rate-limited test hosts'));

  it('SW1: six players at once: every one serves the others, the seed sends under 2 copies, another version is never used', async () => {
    const { seed, players, other, payload } = await room(true);
    await clickAll(players);
    // while it runs, a player lists players on its manifest as partial sources, and the seed sees what each is downloading
    const partial = await waitFor(
      async () => (await players[0]!.api.get<GameDetail>(`/api/games/${ID}`)).sources.find((s) => !s.complete && s.bytesHave > 0),
      60_000,
      'a partial holder among the sources',
    );
    expect(partial.bytesHave).toBeLessThan(SIZE);
    const seen = await waitFor(
      async () => (await seed.api.get<Peer[]>('/api/peers')).find((p) => p.downloading.some((d) => d.id === ID && d.bytesHave > 0)),
      60_000,
      'the seed sees a player downloading',
    );
    expect(seen.downloading.find((d) => d.id === ID)!.bytesTotal).toBeGreaterThanOrEqual(SIZE);
    await allDone(players);

    const want = sha256(payload);
    for (const p of players) expect(sha256(await fs.readFile(gameFile(p))), p.name).toBe(want);
    const stats = await Promise.all(players.map((p) => p.api.get<Stats>('/api/stats')));
    for (const [i, s] of stats.entries()) expect(s.uploadedBytes, `${players[i]!.name} uploaded`).toBeGreaterThan(0);
    const seedStats = await seed.api.get<Stats>('/api/stats');
    // complete holders only, it sent 6 copies
    expect(seedStats.uploadedBytes).toBeLessThan(2 * SIZE);
    // no byte came from the node on another version (another manifest), and it sent none
    const otherId = await peerIdOf(other!);
    for (const s of stats) expect(s.peers.find((p) => p.peerId === otherId)?.downloadedBytes ?? 0).toBe(0);
    expect((await other!.api.get<Stats>('/api/stats')).uploadedBytes).toBe(0);
  }, 300_000);

  it("SW2: a player killed mid-swarm and a player whose disk rots: the rotten one is banned, the others finish with the seed's bytes", async () => {
    const { players, payload } = await room(false);
    const killed = players[5]!;
    const rotten = players[4]!;
    const honest = players.slice(0, 4);
    const rottenId = await peerIdOf(rotten);
    await clickAll(players);
    // the rotten player's verified chunks go bad on disk (one byte flipped in every chunk), as a failing disk
    // would; it still announces them, and serves them to whoever asks
    await waitFor(async () => ((await progress(rotten)) >= 0.3 * SIZE ? true : undefined), 120_000, 'the rotten player at 30%');
    const handle = await fs.open(gameFile(rotten), 'r+');
    try {
      const one = Buffer.alloc(1);
      for (let offset = 1000; offset < SIZE; offset += CHUNK) {
        await handle.read(one, 0, 1, offset);
        one[0]! ^= 0xff;
        await handle.write(one, 0, 1, offset);
      }
    } finally {
      await handle.close();
    }
    await waitFor(async () => ((await progress(killed)) >= 0.5 * SIZE ? true : undefined), 120_000, 'the killed player at 50%');
    killed.child.kill('SIGKILL');
    await allDone(honest);

    const want = sha256(payload);
    for (const p of honest) expect(sha256(await fs.readFile(gameFile(p))), p.name).toBe(want);
    // someone got a rotten chunk from it, and nobody asked it more than its request slots (2) at once before banning it
    const reports = honest.map(
      (p) =>
        p
          .log()
          .split('\n')
          .filter((l) => l.includes('corrupt chunk') && l.includes(rottenId)).length,
    );
    expect(Math.max(...reports)).toBeGreaterThanOrEqual(1);
    for (const n of reports) expect(n).toBeLessThanOrEqual(2);
  }, 300_000);
});
