// In-process nodes on the in-memory transport, and raw protocol clients.
import type { DiskSpace } from '../../server/runtime/disk-space.js';
import { onTestFinished } from 'vitest';
import type { WireAnswer, WireRequest } from '../../shared/wire.js';
import { endWithMessage, readMessage } from '../../server/runtime/transport/framing.js';
import { MemoryTransport, type MemoryNetwork } from '../../server/runtime/transport/memory-transport.js';
import type { TransportConnection } from '../../server/runtime/transport/transport.js';
import { generateIdentity, type Identity } from '../../server/runtime/transport/identity.js';
import type { Catalog } from '../../server/runtime/library/catalog.js';
import { PeerRuntime } from '../../server/runtime/runtime.js';
import { silentLogger } from '../../server/runtime/logger.js';
import { tempDir } from './temp-dir.js';
import { testCatalog } from './runtime.js';

let identities: Identity[] | undefined;
/** A few identities made once per test file, for raw clients. */
export async function identity(i: number): Promise<Identity> {
  identities ??= await Promise.all([0, 1, 2, 3].map(() => generateIdentity()));
  return identities[i % identities.length] as Identity;
}

export const FAST_TIMING = { pingIntervalMs: 100, peerTimeoutMs: 600, requestTimeoutMs: 500, redialIntervalMs: 150 };

export interface MemoryNodeOptions {
  net: MemoryNetwork;
  port: number;
  peers?: number[];
  catalog?: Catalog;
  gameDir?: string;
  stateDir?: string;
  chunkSize?: number;
  uploadLimit?: number;
  downloadLimit?: number;
  /** how long a chunk request may go without data (the node's default is 15 s) */
  chunkTimeoutMs?: number;
  /** how free space is measured (a small disk without one) */
  diskSpace?: DiskSpace;
  /** take part in swarms (default true) */
  swarm?: boolean;
}

/** A runtime whose peers are reached over the in-memory transport. */
export async function startMemoryNode(opts: MemoryNodeOptions) {
  const gameDir = opts.gameDir ?? (await tempDir());
  const stateDir = opts.stateDir ?? (await tempDir());
  const runtime = await PeerRuntime.start({
    gameDir,
    stateDir,
    catalog: opts.catalog ?? testCatalog,
    name: `node-${opts.port}`,
    uploadLimit: opts.uploadLimit ?? 0,
    downloadLimit: opts.downloadLimit ?? 0,
    logger: silentLogger,
    library: { debounceMs: 20 },
    ...(opts.diskSpace ? { diskSpace: opts.diskSpace } : {}),
    network: {
      chunkSize: opts.chunkSize ?? 64 * 1024,
      quicPort: opts.port,
      peers: (opts.peers ?? []).map((port) => ({ host: 'memory', port })),
      timing: FAST_TIMING,
      swarm: opts.swarm ?? true,
      ...(opts.chunkTimeoutMs ? { chunkTimeoutMs: opts.chunkTimeoutMs } : {}),
      createTransport: (identity, port) => new MemoryTransport({ network: opts.net, port, idleTimeoutMs: 2_000, identity }),
    },
  });
  onTestFinished(() => runtime.close());
  return { runtime, gameDir, stateDir };
}

/** A bare transport to talk raw protocol to a node (with `id`, the connection proves that identity). */
export async function rawClient(net: MemoryNetwork, port: number, id?: Identity): Promise<TransportConnection> {
  const transport = new MemoryTransport({ network: net, ...(id ? { identity: id } : {}) });
  onTestFinished(() => transport.close());
  await transport.listen();
  return transport.connect({ host: 'memory', port });
}

/** One raw request; returns the answer frame (and any raw bytes after it). */
export async function rawRequest(
  connection: TransportConnection,
  request: WireRequest | unknown,
): Promise<{ answer: WireAnswer; bytes: Buffer }> {
  const stream = await connection.openStream();
  await endWithMessage(stream, request);
  const answer = (await readMessage(stream)) as WireAnswer;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { answer, bytes: Buffer.concat(chunks) };
}
