// Wires the node's swarm (swarm/swarm.ts) to its peer network: which peers it
// talks to, how it learns the manifest of a game it has downloaded (its own
// file list, normalised as a download validates one), how it opens files
// under the serving rules, and which requests it answers. Part of the
// composition root: the swarm itself imports neither the network's services
// nor the file-list validation.
import { WireErrorCode } from '../../shared/wire.js';
import type { Logger } from './logger.js';
import type { PeerNetwork } from './peers/peer-network.js';
import { openInRoot } from './peers/served-files.js';
import { WireError } from './peers/wire-error.js';
import { Swarm } from './swarm/swarm.js';
import { validateFileLists } from './transfer/validate.js';
import { endWithMessage } from './transport/framing.js';

export function startSwarm(network: PeerNetwork, enabled: boolean, logger: Logger): Swarm {
  const swarm = new Swarm({
    enabled,
    logger,
    connections: () =>
      network
        .peers()
        .filter((p) => p.compatible)
        .flatMap((p) => {
          const connection = network.manager.get(p.peerId)?.connection;
          return connection ? [{ peerId: p.peerId, connection }] : [];
        }),
    ownCopy: (id) => {
      const entry = network.served.downloadedEntry(id);
      if (!entry) return null;
      return {
        key: entry,
        source: async () => {
          const { files } = await network.served.files(id);
          const { dirs, files: validated } = validateFileLists(new Map([['self', files]]));
          return { dirs, files: validated };
        },
      };
    },
    openServed: (id, rel) => network.served.open(id, rel),
    openInRoot: (root, rel) => openInRoot(root, rel),
  });
  network.register('SwarmHave', async (connection, stream, request) => {
    const peerId = connection.remotePeerId;
    if (!peerId) throw new WireError(WireErrorCode.HelloRequired, 'the connection has no proven peer id');
    await endWithMessage(stream, await swarm.onHave(peerId, request));
  });
  network.registerChunkSource((id, manifest, rel, offset, length) => swarm.openChunk(id, manifest, rel, offset, length));
  return swarm;
}
