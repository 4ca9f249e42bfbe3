// Real `lanspread serve` processes in separate network namespaces (hosts joined
// by bridges), finding each other only by mDNS. Scenario ids M1–M3 in
// docs/SCENARIOS.md. Needs root and `ip netns`; skipped with the reason otherwise.
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Game, Peer } from '../../shared/api.js';
import { canUseNetns, createNetwork, type Host } from '../helpers/netns.js';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';
import { requirePrerequisite, skipSuite } from '../helpers/skip.js';

const support = canUseNetns();

interface HostNode {
  host: Host;
  node: NodeProcess;
  get<T>(path: string): Promise<T>;
}

async function nodeOn(host: Host, games?: string): Promise<HostNode> {
  const node = await startNode({
    games: games ?? (await tempDir()),
    state: await tempDir(),
    wrap: ['ip', 'netns', 'exec', host.name],
    mdns: true,
    args: ['--quic-port', '0', '--name', host.name.slice(-12)],
    env: { LANSPREAD_PING_INTERVAL_MS: '500' },
  });
  onTestFinished(() => node.stop('SIGKILL'));
  // the API listens on the host's loopback: ask from inside the namespace
  const get = async <T>(path: string): Promise<T> => {
    const r = await host.exec('curl', ['-sf', new URL(path, node.url).toString()]);
    if (r.code !== 0) throw new Error(`curl ${path} in ${host.name}: exit ${r.code} ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  return { host, node, get };
}

const peerIds = async (n: HostNode) => (await n.get<Peer[]>('/api/peers')).map((p) => p.peerId).sort();
const selfId = async (n: HostNode) => (await n.get<{ peerId: string }>('/api/health')).peerId;

describe.skipIf(skipSuite(support, 'mDNS peers'))('peers found by mDNS across network namespaces (real processes)', () => {
  beforeAll(() => requirePrerequisite(support, 'mDNS peers'));

  it('M1: two nodes on two hosts find each other and exchange libraries within 10 s', async () => {
    const net = await createNetwork(2);
    const gamesA = await tempDir();
    const gamesB = await tempDir();
    await makeGame(gamesA, 'teeworlds', { version: '20231120' });
    await makeGame(gamesB, 'supertuxkart', { version: '20240420' });
    const a = await nodeOn(net.hosts[0]!, gamesA);
    const b = await nodeOn(net.hosts[1]!, gamesB);
    const [ida, idb] = [await selfId(a), await selfId(b)];
    const started = Date.now();
    await waitFor(
      async () => ((await peerIds(a)).length === 1 && (await peerIds(b)).length === 1 ? true : undefined),
      10_000,
      'mDNS peering',
    );
    expect(await peerIds(a)).toEqual([idb]);
    expect(await peerIds(b)).toEqual([ida]);
    const addressOfB = (await a.get<Peer[]>('/api/peers'))[0]!.address;
    expect(addressOfB.startsWith(`${net.hosts[1]!.address}:`)).toBe(true);
    await waitFor(
      async () => {
        const [ga, gb] = [await a.get<Game[]>('/api/games'), await b.get<Game[]>('/api/games')];
        return ga.find((g) => g.id === 'supertuxkart')?.peers === 1 && gb.find((g) => g.id === 'teeworlds')?.peers === 1 ? true : undefined;
      },
      10_000 - (Date.now() - started),
      'games exchanged',
    );
  });

  it('M2: three nodes on three hosts all see each other', async () => {
    const net = await createNetwork(3);
    const nodes = await Promise.all(net.hosts.map((h) => nodeOn(h)));
    const ids = await Promise.all(nodes.map(selfId));
    await waitFor(async () => ((await Promise.all(nodes.map(peerIds))).every((l) => l.length === 2) ? true : undefined), 15_000, 'mesh');
    for (const [i, n] of nodes.entries()) expect(await peerIds(n)).toEqual(ids.filter((_, j) => j !== i).sort());
  });

  it('M3: a node on two networks is found from both, and finds both', async () => {
    // host 0 on segment 0, host 1 on segments 0 and 1, host 2 on segment 1
    const net = await createNetwork([[0], [0, 1], [1]]);
    const [left, middle, right] = await Promise.all(net.hosts.map((h) => nodeOn(h)));
    const [idl, idm, idr] = await Promise.all([left!, middle!, right!].map(selfId));
    await waitFor(async () => ((await peerIds(middle!)).length === 2 ? true : undefined), 15_000, 'middle sees both sides');
    expect(await peerIds(middle!)).toEqual([idl, idr].sort());
    expect(await peerIds(left!)).toEqual([idm]);
    expect(await peerIds(right!)).toEqual([idm]);
  });
});
