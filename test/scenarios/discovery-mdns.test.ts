// Nodes on separate hosts (network namespaces on bridges) find each other over
// real multicast: each host runs MdnsDiscovery in its own process.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_PEERS } from '../../server/runtime/discovery/index.js';
import { canUseNetns, createNetwork, type Host } from '../helpers/netns.js';
import { startMdnsNode, type MdnsNode } from '../helpers/mdns-node.js';
import { requirePrerequisite, skipSuite } from '../helpers/skip.js';
import { PROTO_VERSION } from '../../shared/wire.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Announces `count` made-up services, 8 a packet, paced so the receiver's socket buffer keeps up. */
const FLOODER = `
const [address, count, ttl] = process.argv.slice(1);
const mdns = require('multicast-dns')({ interface: address, bind: '0.0.0.0' });
mdns.on('ready', async () => {
  for (let i = 0; i < Number(count); i += 8) {
    const answers = [];
    for (let j = i; j < i + 8; j++) {
      const inst = 'fake' + j + '._lanspread._udp.local';
      answers.push(
        { name: '_lanspread._udp.local', type: 'PTR', ttl: Number(ttl), data: inst },
        { name: inst, type: 'SRV', ttl: Number(ttl), data: { port: 1000 + j, target: 'fake.local' } },
        { name: inst, type: 'TXT', ttl: Number(ttl), data: ['id=' + j.toString(16).padStart(32, '0'), 'proto=1'] },
      );
    }
    await new Promise((r) => mdns.respond({ answers }, r));
    await new Promise((r) => setTimeout(r, 4));
  }
  mdns.destroy();
});
`;

const netns = canUseNetns();

async function sees(observer: MdnsNode, target: MdnsNode, address: string, interfaceAddress?: string): Promise<void> {
  const p = await observer.waitForPeer(target.peerId, 5_000, (x) => x.host === address);
  expect(p).toMatchObject({
    peerId: target.peerId,
    host: address,
    port: target.port,
    name: `node-${target.peerId.slice(0, 6)}`,
    proto: String(PROTO_VERSION),
  });
  if (interfaceAddress) expect(p.interfaceAddress).toBe(interfaceAddress);
}

describe.skipIf(skipSuite(netns, 'mDNS discovery'))('mDNS discovery between hosts', () => {
  beforeAll(() => requirePrerequisite(netns, 'mDNS discovery'));

  it('two hosts discover each other: peer id, address and port', async () => {
    const net = await createNetwork(2);
    const [h0, h1] = net.hosts as [Host, Host];
    const [a, b] = await Promise.all([startMdnsNode(h0), startMdnsNode(h1)]);
    await Promise.all([sees(a, b, h1.address, h0.address), sees(b, a, h0.address, h1.address)]);
    // Our own announcements come back through multicast loopback; they are not a peer.
    expect(a.peers().has(a.peerId)).toBe(false);
    expect(b.peers().has(b.peerId)).toBe(false);
  });

  it('three hosts all see each other', async () => {
    const net = await createNetwork(3);
    const nodes = await Promise.all(net.hosts.map((h) => startMdnsNode(h)));
    await Promise.all(nodes.flatMap((o) => nodes.filter((t) => t !== o).map((t) => sees(o, t, t.host.address))));
    for (const n of nodes)
      expect([...n.peers().keys()].sort()).toEqual(
        nodes
          .filter((t) => t !== n)
          .map((t) => t.peerId)
          .sort(),
      );
  });

  it('a host on two subnets is announced on both, and sees the hosts on each', async () => {
    // h0 on segment 0, h1 on both, h2 on segment 1.
    const net = await createNetwork([[0], [0, 1], [1]]);
    const [h0, h1, h2] = net.hosts as [Host, Host, Host];
    const [a, b, c] = await Promise.all([startMdnsNode(h0), startMdnsNode(h1), startMdnsNode(h2)]);
    // b is announced on each of its subnets (one socket would announce on one only).
    await Promise.all([sees(a, b, '10.77.0.2', '10.77.0.1'), sees(c, b, '10.77.1.2', '10.77.1.3')]);
    // b sees each peer on the interface it is reachable through.
    await Promise.all([sees(b, a, '10.77.0.1', '10.77.0.2'), sees(b, c, '10.77.1.3', '10.77.1.2')]);
    // The segments really are separate: the ends do not see each other.
    expect(a.peers().has(c.peerId)).toBe(false);
    expect(c.peers().has(a.peerId)).toBe(false);
  });

  it('an interface that comes up after start is used', async () => {
    const net = await createNetwork([[0, 1], [1]]);
    const [h0, h1] = net.hosts as [Host, Host];
    expect((await h0.exec('ip', ['link', 'set', 'eth1', 'down'])).code).toBe(0);
    const [a, b] = await Promise.all([startMdnsNode(h0), startMdnsNode(h1)]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(b.peers().has(a.peerId)).toBe(false);
    expect((await h0.exec('ip', ['link', 'set', 'eth1', 'up'])).code).toBe(0);
    await Promise.all([sees(b, a, '10.77.1.1', '10.77.1.2'), sees(a, b, '10.77.1.2', '10.77.1.1')]);
  });

  it("a stopped node's goodbye expires it on the others at once", async () => {
    const net = await createNetwork(3);
    // TTL 30 s: expiry within 2 s can only come from the goodbye.
    const nodes = await Promise.all(net.hosts.map((h) => startMdnsNode(h, { ttlSeconds: 30 })));
    const [a, b, c] = nodes as [MdnsNode, MdnsNode, MdnsNode];
    await Promise.all([sees(a, c, c.host.address), sees(b, c, c.host.address), sees(a, b, b.host.address)]);
    await c.stop();
    await Promise.all([a.waitForExpired(c.peerId, 2_000), b.waitForExpired(c.peerId, 2_000)]);
    expect(a.peers().has(c.peerId)).toBe(false);
    expect(a.peers().has(b.peerId)).toBe(true);
  });

  it('a node that dies without a goodbye expires when its TTL runs out', async () => {
    const net = await createNetwork(2);
    const [h0, h1] = net.hosts as [Host, Host];
    const [a, b] = await Promise.all([startMdnsNode(h0, { ttlSeconds: 2 }), startMdnsNode(h1, { ttlSeconds: 2 })]);
    await sees(a, b, h1.address);
    // While b lives, a keeps it past its TTL by asking again (b announces only twice, 1 s apart).
    await new Promise((r) => setTimeout(r, 4_000));
    expect(a.events.some((e) => e.event === 'peer-expired')).toBe(false);
    b.child.kill('SIGKILL');
    await a.waitForExpired(b.peerId, 5_000);
  });

  it('a flood of made-up services is capped at MAX_PEERS, and they expire', async () => {
    const net = await createNetwork(2);
    const [h0, h1] = net.hosts as [Host, Host];
    const victim = await startMdnsNode(h0);
    const flooder = h1.spawn(process.execPath, ['-e', FLOODER, h1.address, String(MAX_PEERS * 2), '3'], {
      cwd: PROJECT_ROOT,
      stdio: 'ignore',
    });
    await new Promise((r) => flooder.on('exit', r));
    const seen = () => new Set(victim.events.flatMap((e) => (e.event === 'peer' ? [e.peer.peerId] : [])));
    await victim.waitForPeer((MAX_PEERS - 1).toString(16).padStart(32, '0'), 3_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen().size).toBe(MAX_PEERS);
    // TTL 3 s: all gone again, and the node is still working.
    const deadline = Date.now() + 6_000;
    while (victim.peers().size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(victim.peers().size).toBe(0);
    expect(victim.child.exitCode).toBeNull();
  });
});
