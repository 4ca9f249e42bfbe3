// The peer list tells which wire protocol version each peer said Hello with, so the
// dashboard can warn about a peer that speaks another one.
import { describe, expect, it } from 'vitest';
import { PROTO_VERSION } from '../../../shared/wire.js';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { identity, rawClient, rawRequest, startMemoryNode } from '../../helpers/peers.js';

describe('peer protocol version', () => {
  it('lists the version from each Hello and whether this node speaks it', async () => {
    const net = new MemoryNetwork();
    const a = await startMemoryNode({ net, port: 71 });
    const [sameId, newerId] = [await identity(1), await identity(2)];
    const [same, newer] = [sameId.peerId, newerId.peerId];
    const hello = (peer_id: string, proto_version: number) => ({
      type: 'Hello' as const,
      peer_id,
      proto_version,
      listen_port: 1,
      name: peer_id.slice(0, 4),
    });
    await rawRequest(await rawClient(net, 71, sameId), hello(same, PROTO_VERSION));
    await rawRequest(await rawClient(net, 71, newerId), hello(newer, PROTO_VERSION + 1));
    const byId = new Map(a.runtime.peers().map((p) => [p.peerId, p]));
    expect(byId.get(same)).toMatchObject({ protocolVersion: PROTO_VERSION, compatible: true });
    expect(byId.get(newer)).toMatchObject({ protocolVersion: PROTO_VERSION + 1, compatible: false });
  });
});
