// Everything that faces other nodes, composed: this node's identity (its key),
// the transport (QUIC on quinn by default, injectable), what it serves, who its peers are
// and what they have. The runtime talks to peers only through this.
import type { PeerBase } from '../../../shared/api.js';
import { isErrno } from '../fs-util.js';
import type { Catalog } from '../library/catalog.js';
import type { Logger } from '../logger.js';
import type { Identity } from '../transport/identity.js';
import { QuinnTransport } from '../transport/quinn-transport.js';
import type { Endpoint, Transport, TransportConnection } from '../transport/transport.js';
import { MdnsDiscovery } from '../discovery/index.js';
import { ChunkHashCache } from '../content/chunk-hash-cache.js';
import { PeerGameDB } from './peer-game-db.js';
import { PeerManager, type PeerManagerEvents, type PeerTiming } from './peer-manager.js';
import { UPLOAD_SLOTS } from '../constants.js';
import { ProtocolServer, type ManifestChunkSource, type DelegatedRequest, type RequestHandler } from './protocol-server.js';
import { ServedFiles, type LibraryView } from './served-files.js';

/** How many ports after the requested one are tried when it is taken. */
const PORT_TRIES = 20;

export interface NetworkOptions {
  /** QUIC bind address; default all IPv4 addresses */
  quicHost?: string;
  /** QUIC port; the next free one is taken when it is busy (0 = any) */
  quicPort: number;
  /** peers given by hand */
  peers?: Endpoint[];
  timing?: Partial<PeerTiming>;
  /** replaces the QUIC transport (the in-memory transport in tests) */
  createTransport?: (identity: Identity, port: number) => Transport;
  /** chunk size this node hashes its files with (tests use small chunks) */
  chunkSize?: number;
  /** find peers with mDNS (and announce this node) */
  mdns?: boolean;
  /** take part in swarms (default true; false: complete holders only) */
  swarm?: boolean;
  /** how long a chunk request may go without data before it is retried elsewhere; default 15 s */
  chunkTimeoutMs?: number;
}

export interface PeerNetworkDeps {
  /** this node's key; its peer id is `identity.peerId` */
  identity: Identity;
  name: () => string;
  catalog: Catalog;
  library: LibraryView;
  stateDir: string;
  logger: Logger;
  events: PeerManagerEvents;
  /** file bytes about to go to a peer (upload limit and stats); may wait */
  onUpload?: (peerId: string | null, bytes: number, signal?: AbortSignal) => Promise<void> | void;
}

export class PeerNetwork {
  private libraryRevision = 1;

  private discovery: MdnsDiscovery | null = null;

  private constructor(
    readonly transport: Transport,
    readonly endpoint: Endpoint,
    readonly db: PeerGameDB,
    readonly manager: PeerManager,
    /** what this node serves, under the serving rules every request goes through */
    readonly served: ServedFiles,
    private readonly server: ProtocolServer,
    private readonly onUpload: PeerNetworkDeps['onUpload'],
  ) {}

  /** Register the handler of a request type another service answers (streamed installs, swarm). */
  register<T extends DelegatedRequest>(type: T, handler: RequestHandler<T>): void {
    this.server.register(type, handler);
  }

  /** Let `source` open the chunks peers ask for on a manifest (the swarm). */
  registerChunkSource(source: ManifestChunkSource): void {
    this.server.registerChunkSource(source);
  }

  /** File bytes about to go to `connection`'s peer (upload limit and stats); may wait. */
  upload(connection: TransportConnection, bytes: number, signal?: AbortSignal): Promise<void> | void {
    return this.onUpload?.(connection.remotePeerId ?? this.manager.peerIdFor(connection), bytes, signal);
  }

  static async start(opts: NetworkOptions, deps: PeerNetworkDeps): Promise<PeerNetwork> {
    const logger = deps.logger;
    const { transport, endpoint } = await bindTransport(opts, deps.identity, logger);
    const db = new PeerGameDB(deps.catalog);
    const served = new ServedFiles(
      deps.catalog,
      deps.library,
      new ChunkHashCache(deps.stateDir, opts.chunkSize ?? null, logger.child({ component: 'hashes' })),
    );
    // the protocol server and the manager refer to each other; `self` is filled in below
    const self: { network?: PeerNetwork } = {};
    const server = new ProtocolServer(
      served,
      {
        onHello: (connection, hello) => self.network!.manager.onHello(connection, hello),
        libraryRev: () => self.network!.libraryRevision,
        onUpload: (connection, bytes, signal) => self.network!.upload(connection, bytes, signal),
      },
      logger.child({ component: 'protocol' }),
      UPLOAD_SLOTS,
      opts.swarm !== false,
    );
    const manager = new PeerManager({
      transport,
      server,
      db,
      selfId: deps.identity.peerId,
      name: deps.name,
      listenPort: endpoint.port,
      events: deps.events,
      logger: logger.child({ component: 'peers' }),
      ...(opts.timing ? { timing: opts.timing } : {}),
    });
    const network = new PeerNetwork(transport, endpoint, db, manager, served, server, deps.onUpload);
    self.network = network;
    manager.start();
    for (const peer of opts.peers ?? []) manager.addStatic(peer);
    if (opts.mdns) await network.startDiscovery(deps);
    logger.info({ endpoint: `${endpoint.host}:${endpoint.port}`, peerId: deps.identity.peerId }, 'listening for peers');
    return network;
  }

  private async startDiscovery(deps: PeerNetworkDeps): Promise<void> {
    const discovery = new MdnsDiscovery({
      peerId: deps.identity.peerId,
      name: deps.name(),
      port: this.endpoint.port,
      logger: deps.logger.child({ component: 'mdns' }),
    });
    discovery.on('peer', (peer) => this.manager.addDiscovered({ host: peer.host, port: peer.port }, peer.peerId));
    try {
      await discovery.start();
      this.discovery = discovery;
    } catch (err) {
      // A node without multicast still works with --peer; say so once.
      deps.logger.warn({ err: (err as Error).message }, 'mDNS discovery is unavailable; use --peer HOST:PORT to add peers');
    }
  }

  /** The local library changed: peers learn it from the next Pong. */
  libraryChanged(): void {
    this.libraryRevision++;
  }

  peers(): PeerBase[] {
    return this.manager.list();
  }

  async stop(): Promise<void> {
    await this.discovery?.stop();
    await this.manager.stop();
    await this.transport.close();
  }
}

async function bindTransport(
  opts: NetworkOptions,
  identity: Identity,
  logger: Logger,
): Promise<{ transport: Transport; endpoint: Endpoint }> {
  const tries = opts.quicPort === 0 ? 1 : PORT_TRIES;
  let lastError: unknown;
  for (let i = 0; i < tries; i++) {
    const port = opts.quicPort === 0 ? 0 : opts.quicPort + i;
    const transport =
      opts.createTransport?.(identity, port) ??
      new QuinnTransport({
        host: opts.quicHost ?? '0.0.0.0',
        port,
        identity,
        logger: logger.child({ component: 'quic' }),
      });
    try {
      return { transport, endpoint: await transport.listen() };
    } catch (err) {
      lastError = err;
      await transport.close().catch(() => undefined);
      const inUse = isErrno(err, 'EADDRINUSE') || isErrno((err as { cause?: unknown }).cause, 'EADDRINUSE');
      if (!inUse) throw err;
      logger.info({ port }, 'QUIC port in use; trying the next one');
    }
  }
  throw lastError;
}
