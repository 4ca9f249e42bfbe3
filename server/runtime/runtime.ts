// The headless peer: started with a game dir, a state dir, a catalog and an
// event sink; takes PeerCommands, emits PeerEvents. No HTTP in here — the API,
// the dashboard and the CLI are adapters over this handle.
import type {
  ActiveOperation,
  ErrorInfo,
  QueuedKind,
  Game,
  GameDetail,
  Settings,
  SettingsPatch,
  SpaceShortfall,
  StoredSettings,
} from '../../shared/api.js';
import type { PeerCommand } from '../../shared/commands.js';
import { ErrorCode } from '../../shared/error-codes.js';
import type { PeerEvent } from '../../shared/events.js';
import { newestVersion } from '../../shared/version.js';
import { LanspreadError, UnknownGameError } from './errors.js';
import { EventBus, type EventListener } from './event-bus.js';
import type { Catalog, CatalogEntry } from './library/catalog.js';
import { Library } from './library/library.js';
import type { Logger } from './logger.js';
import { OperationRegistry } from './operations.js';
import { loadOrCreateIdentity } from './transport/identity.js';
import { SettingsStore, validateGameDir } from './state/settings-store.js';
import { PeerNetwork, type NetworkOptions } from './peers/peer-network.js';
import type { GameSource, Peer, PeerBase } from '../../shared/api.js';
import { DownloadService } from './download/download-service.js';
import { startSwarm } from './swarm-setup.js';
import type { Swarm } from './swarm/swarm.js';
import { StreamInstallService } from './stream-install/stream-install-service.js';
import { StreamInstallSender } from './stream-install/sender.js';
import { RateLimiter } from './transfer/rate-limiter.js';
import { TransferStats } from './stats.js';
import { EventLoopMonitor } from './event-loop.js';
import { InstallService } from './install/install-service.js';
import { RarUnpacker } from './extract/rar-unpacker.js';
import type { Unpacker } from './extract/unpacker.js';
import { StreamedVersions } from './stream-install/streamed-version.js';
import { statfsSpace, type DiskSpace } from './disk-space.js';
import { FREE_SPACE_MIN_AGE_MS, FreeSpaceWatch, spaceShortfall } from './free-space-watch.js';
import type { LocalGame } from '../../shared/events.js';
import { NodeActivity } from './activity.js';

export interface RuntimeOptions {
  gameDir: string;
  stateDir: string;
  catalog: Catalog;
  name: string;
  uploadLimit: number;
  downloadLimit: number;
  /** downloads, updates and streamed installs at once; more wait in the queue (default 1) */
  maxActiveTransfers?: number;
  logger: Logger;
  /** library timing knobs and watching, for tests */
  library?: { fullRescanIntervalMs?: number; debounceMs?: number; watch?: boolean };
  /** talk to peers; false runs the node alone (some unit tests) */
  network: NetworkOptions | false;
  /** the archive extractor; default: the RAR unpacker */
  unpacker?: Unpacker;
  /** how free space is measured before downloads and installs; default statfs (tests make small disks) */
  diskSpace?: DiskSpace;
}

export class PeerRuntime {
  private readonly bus: EventBus;
  private readonly library: Library;
  private readonly operations: OperationRegistry;
  private readonly settingsStore: SettingsStore;
  private readonly lastErrors = new Map<string, ErrorInfo>();
  private current: StoredSettings;
  /** the game dir's free space, for the game objects and the settings */
  private readonly freeSpace: FreeSpaceWatch;
  private network: PeerNetwork | null = null;
  private downloads: DownloadService | null = null;
  private swarm: Swarm | null = null;
  private streamInstalls: StreamInstallService | null = null;
  private readonly installs: InstallService;
  /** the version each streamed-in game holds (it has no version.ini) */
  private readonly streamedVersions: StreamedVersions;
  readonly stats = new TransferStats();
  readonly eventLoop = new EventLoopMonitor();
  private readonly uploadLimiter: RateLimiter;
  private readonly downloadLimiter: RateLimiter;
  /** the transfer queue, the history of finished operations, the throughput samples */
  readonly activity: NodeActivity;

  private constructor(
    readonly peerId: string,
    readonly catalog: Catalog,
    private readonly opts: RuntimeOptions,
  ) {
    this.bus = new EventBus(opts.logger);
    this.settingsStore = new SettingsStore(opts.stateDir);
    this.current = {
      gameDir: opts.gameDir,
      name: opts.name,
      uploadLimit: opts.uploadLimit,
      downloadLimit: opts.downloadLimit,
      maxActiveTransfers: opts.maxActiveTransfers ?? 1,
    };
    this.uploadLimiter = new RateLimiter(opts.uploadLimit);
    this.downloadLimiter = new RateLimiter(opts.downloadLimit);
    this.library = new Library({
      gameDir: opts.gameDir,
      stateDir: opts.stateDir,
      catalog: opts.catalog,
      logger: opts.logger.child({ component: 'library' }),
      onChange: (games) => {
        this.network?.libraryChanged();
        this.emit({ type: 'LocalLibraryChanged', games });
        this.emitLibrary();
      },
      ...opts.library,
    });
    this.operations = new OperationRegistry({
      logger: opts.logger.child({ component: 'operations' }),
      onBegin: (id) => this.library.hold(id),
      onChange: () => {
        this.emit({ type: 'OperationsChanged', operations: this.operations.list() });
        this.emitLibrary();
        void this.freeSpace.refresh(FREE_SPACE_MIN_AGE_MS);
        this.activity.operationsChanged();
      },
      onEnd: (record) => this.activity.recordEnd(record),
    });
    this.activity = new NodeActivity({
      stateDir: opts.stateDir,
      operations: () => this.operations,
      stats: this.stats,
      maxActive: () => this.current.maxActiveTransfers,
      start: (item) => this.startTransfer(item.id, item.kind, item.install),
      setLastError: (id, error) => this.setLastError(id, error),
      emit: (e) => this.emit(e),
      libraryChanged: () => this.emitLibrary(),
      logger: opts.logger,
    });
    this.streamedVersions = new StreamedVersions(opts.stateDir);
    this.freeSpace = new FreeSpaceWatch(
      this.space,
      () => this.library.dir,
      () => this.catalog.entries.map((e) => (this.spaceShortfall(e.id, this.library.get(e.id)) ? e.id : '')).join(','),
      () => this.emitLibrary(),
    );
    this.installs = new InstallService({
      operations: this.operations,
      stateDir: opts.stateDir,
      gameDir: () => this.library.dir,
      unpacker: opts.unpacker ?? new RarUnpacker(),
      emit: (e) => this.emit(e),
      setLastError: (id, error) => this.setLastError(id, error),
      localReplaced: (id) => this.streamedVersions.clear(id).then(() => this.emitLibrary()),
      space: this.space,
      logger: opts.logger.child({ component: 'install' }),
    });
  }

  static async start(opts: RuntimeOptions): Promise<PeerRuntime> {
    const identity = await loadOrCreateIdentity(opts.stateDir);
    const peerId = identity.peerId;
    const runtime = new PeerRuntime(peerId, opts.catalog, opts);
    runtime.eventLoop.start();
    await runtime.activity.start();
    await runtime.installs.recover();
    await runtime.streamedVersions.load();
    await runtime.library.start();
    await runtime.freeSpace.start();
    if (opts.network) {
      try {
        runtime.network = await PeerNetwork.start(opts.network, {
          identity,
          name: () => runtime.current.name,
          catalog: opts.catalog,
          library: runtime.library,
          stateDir: opts.stateDir,
          logger: opts.logger.child({ component: 'network' }),
          events: {
            onPeerConnected: (peer) => {
              runtime.swarm?.peerConnected(peer.peerId);
              runtime.emit({ type: 'PeerConnected', peer: runtime.describePeer(peer) });
              runtime.emitPeerCount();
            },
            onPeerDisconnected: (peerId) => {
              runtime.swarm?.peerGone(peerId);
              runtime.emit({ type: 'PeerDisconnected', peerId });
              runtime.emitPeerCount();
              runtime.emitLibrary();
            },
            onPeerGamesChanged: () => {
              runtime.emitLibrary();
              runtime.downloads?.resumeWhereSourced();
              runtime.activity.queue.schedule();
            },
          },
          onUpload: async (peerId, bytes, signal) => {
            await runtime.uploadLimiter.take(bytes, signal);
            runtime.stats.uploaded(peerId ?? 'unknown', bytes);
          },
        });
        runtime.swarm = startSwarm(runtime.network, opts.network.swarm !== false, opts.logger.child({ component: 'swarm' }));
        runtime.downloads = new DownloadService({
          catalog: opts.catalog,
          network: runtime.network,
          operations: runtime.operations,
          stateDir: opts.stateDir,
          gameDir: () => runtime.library.dir,
          localVersion: (id) => runtime.localVersion(id),
          limiter: runtime.downloadLimiter,
          emit: (e) => runtime.emit(e),
          setLastError: (id, error) => runtime.setLastError(id, error),
          onPeerBytes: (peerId, bytes) => runtime.stats.downloaded(peerId, bytes),
          afterDownload: (id) => runtime.afterDownload(id),
          space: runtime.space,
          swarm: runtime.swarm,
          ...(opts.network.chunkTimeoutMs ? { requestTimeoutMs: opts.network.chunkTimeoutMs } : {}),
          logger: opts.logger.child({ component: 'download' }),
        });
        const network = runtime.network;
        const sender = new StreamInstallSender(network.served, {
          logger: opts.logger.child({ component: 'stream-send' }),
          onUpload: (connection, bytes) => network.upload(connection, bytes),
        });
        network.register('StreamInstall', (connection, stream, request) => sender.send(connection, stream, request.id));
        runtime.streamInstalls = new StreamInstallService({
          selfId: peerId,
          catalog: opts.catalog,
          network: runtime.network,
          operations: runtime.operations,
          stateDir: opts.stateDir,
          gameDir: () => runtime.library.dir,
          limiter: runtime.downloadLimiter,
          emit: (e) => runtime.emit(e),
          setLastError: (id, error) => runtime.setLastError(id, error),
          onPeerBytes: (peerId, bytes) => runtime.stats.downloaded(peerId, bytes),
          installed: (id, version) => runtime.streamedVersions.set(id, version).then(() => runtime.emitLibrary()),
          space: runtime.space,
          logger: opts.logger.child({ component: 'stream-install' }),
        });
        await runtime.downloads.loadInterrupted();
        await runtime.activity.loadQueue();
      } catch (err) {
        await runtime.library.stop();
        throw err;
      }
    }
    opts.logger.info({ peerId, gameDir: opts.gameDir, games: runtime.library.games().length }, 'runtime started');
    return runtime;
  }

  async close(): Promise<void> {
    this.freeSpace.stop();
    await this.activity.stopQueue();
    await this.downloads?.shutdown();
    await this.streamInstalls?.shutdown();
    await this.installs.shutdown();
    this.swarm?.stop();
    await this.network?.stop();
    await this.library.stop();
    await this.activity.flush();
    this.eventLoop.stop();
  }

  /** How free space is measured (injected in tests). */
  get space(): DiskSpace {
    return this.opts.diskSpace ?? statfsSpace;
  }

  /** Where peers reach this node over QUIC (null when running alone). */
  get quicEndpoint(): { host: string; port: number } | null {
    return this.network?.endpoint ?? null;
  }

  /** The peer network, for discovery to feed (null when running alone). */
  get peerNetwork(): PeerNetwork | null {
    return this.network;
  }

  peers(): Peer[] {
    return (this.network?.peers() ?? []).map((p) => this.describePeer(p));
  }

  /** A peer with what this node exchanged with it. */
  private describePeer(peer: PeerBase): Peer {
    const moved = this.stats.forPeer(peer.peerId);
    return {
      ...peer,
      downloading: this.swarm?.downloading(peer.peerId) ?? [],
      uploadedBytes: moved.uploadedBytes,
      downloadedBytes: moved.downloadedBytes,
    };
  }

  subscribe(listener: EventListener): () => void {
    return this.bus.subscribe(listener);
  }

  async execute(command: PeerCommand): Promise<unknown> {
    switch (command.type) {
      case 'ListGames':
        return this.games();
      case 'SetGameDir':
        return this.updateSettings({ gameDir: command.path });
      case 'GetPeerCount':
        return this.network?.manager.count ?? 0;
      case 'GetGame':
      case 'DownloadGameFiles':
        return this.requestTransfer(command.id, 'download', command.install !== false);
      case 'FetchLatestFromPeers':
        return this.requestTransfer(command.id, 'update', command.install !== false);
      case 'CancelDownload': {
        const id = this.entryOrThrow(command.id).id;
        if (this.activity.queue.has(id)) return this.activity.queue.remove(id);
        if (this.operations.get(id)?.kind === 'stream-install') return this.streamInstalls?.cancel(id);
        return this.requireDownloads().cancel(id);
      }
      case 'InstallGame':
        return this.installs.install(this.entryOrThrow(command.id).id);
      case 'UninstallGame':
        return this.installs.uninstall(this.entryOrThrow(command.id).id);
      case 'RemoveDownloadedGame': {
        const id = this.entryOrThrow(command.id).id;
        if (this.activity.queue.has(id)) await this.activity.queue.remove(id); // a removed game must not download again by itself
        const started = await this.installs.removeDownloaded(id);
        await this.downloads?.forget(id); // an interrupted download of it must not resume
        this.swarm?.forget(id); // nor may peers still fetch its chunks from here
        return started;
      }
      case 'StreamInstallGame':
        return this.requestTransfer(command.id, 'stream-install', true);
    }
  }

  /** Start a download, update or streamed install now, or queue it when every transfer slot is taken. */
  private requestTransfer(id: string, kind: QueuedKind, install: boolean): Promise<'started' | 'queued'> {
    const entry = this.entryOrThrow(id);
    if (kind === 'stream-install' ? !this.streamInstalls : !this.downloads) {
      throw new LanspreadError(ErrorCode.NoPeers, 'this node runs without a peer network');
    }
    return this.activity.request(entry.id, kind, install);
  }

  private startTransfer(id: string, kind: QueuedKind, install: boolean): Promise<void> {
    if (kind === 'stream-install') return this.streamInstalls!.start(id);
    return this.requireDownloads().start(id, kind, { install });
  }

  games(): Game[] {
    return this.catalog.entries.map((entry) => this.gameObject(entry));
  }

  game(id: string): GameDetail {
    const entry = this.entryOrThrow(id);
    const files = (this.library.entry(id)?.files ?? []).map((f) => ({ path: f.path, size: f.size, isDir: false }));
    return { ...this.gameObject(entry), sources: this.sources(id), files };
  }

  listOperations(): ActiveOperation[] {
    return this.operations.list();
  }

  settings(): Settings {
    return { ...this.current, freeBytes: this.freeSpace.free };
  }

  /** Read the game dir's free space now (GET /api/settings). */
  refreshFreeSpace(): Promise<void> {
    return this.freeSpace.refresh();
  }

  /** Apply and persist a settings change; a new game dir must exist and is rescanned. */
  async updateSettings(patch: SettingsPatch): Promise<Settings> {
    const next = { ...this.current, ...patch };
    if (patch.gameDir !== undefined) next.gameDir = await validateGameDir(patch.gameDir);
    if (next.gameDir !== this.current.gameDir) {
      await this.library.setGameDir(next.gameDir);
    }
    this.current = next;
    this.uploadLimiter.setRate(next.uploadLimit);
    this.downloadLimiter.setRate(next.downloadLimit);
    if (patch.maxActiveTransfers !== undefined) this.activity.limitChanged();
    await this.settingsStore.save(next);
    await this.freeSpace.refresh();
    this.emitLibrary();
    return this.settings();
  }

  /** Rescan the whole game dir now. */
  rescan(): Promise<void> {
    return this.library.fullScan();
  }

  /** Results of the last download per game: which peers served how many chunks. */
  lastDownload(id: string) {
    return this.downloads?.results.get(id) ?? null;
  }

  private requireDownloads(): DownloadService {
    if (!this.downloads) throw new LanspreadError(ErrorCode.NoPeers, 'this node runs without a peer network');
    return this.downloads;
  }

  private setLastError(id: string, error: ErrorInfo | null): void {
    if (error) {
      this.lastErrors.set(id, error);
      this.operations.noteError(id, error);
    } else this.lastErrors.delete(id);
    this.emitLibrary();
  }

  /** After a download (its operation has ended): install it as a new operation. */
  private async afterDownload(id: string): Promise<void> {
    await this.installs.installAfterDownload(id);
  }

  /** Complete holders (they announce the game downloaded) and players on this node's manifest for it, with how much each holds. */
  private sources(id: string): GameSource[] {
    const network = this.network;
    if (!network) return [];
    const receiving = this.downloads?.receiving(id) ?? {};
    const source = (peerId: string, version: string | null, complete: boolean, bytesHave: number): GameSource => ({
      peerId,
      name: network.manager.get(peerId)?.name ?? '',
      version,
      complete,
      bytesHave,
      receivingSpeed: receiving[peerId] ?? 0,
    });
    const out = network.db.sources(id).map((s) => source(s.peerId, s.version, true, network.db.announcedSize(id, s.version ?? '') ?? 0));
    for (const h of this.swarm?.holders(id) ?? []) {
      if (!out.some((s) => s.peerId === h.peerId)) out.push(source(h.peerId, null, h.complete, h.bytesHave));
    }
    return out;
  }

  /**
   * The version this node holds: the downloaded one (`version.ini`), else,
   * for a game installed by a streamed install, the version it streamed.
   */
  private localVersion(id: string): string | null {
    const local = this.library.get(id);
    if (local?.downloaded) return local.version;
    return local?.installed ? this.streamedVersions.get(id) : null;
  }

  private gameObject(entry: CatalogEntry): Game {
    const local = this.library.get(entry.id);
    const version = this.localVersion(entry.id);
    const db = this.network?.db;
    const game: Game = {
      id: entry.id,
      name: entry.name,
      description: entry.description,
      size: entry.size,
      downloaded: local?.downloaded ?? false,
      installed: local?.installed ?? false,
      version,
      peers: db?.sources(entry.id).length ?? 0,
      latestVersion: newestVersion([entry.eti_version, local?.version, version, db?.latestVersion(entry.id)]),
      operation: this.operations.get(entry.id),
      lastError: this.lastErrors.get(entry.id) ?? null,
      noSpace: this.spaceShortfall(entry.id, local),
      queued: this.activity.queue.position(entry.id),
    };
    if (entry.genre !== undefined) game.genre = entry.genre;
    if (entry.max_players !== undefined) game.maxPlayers = entry.max_players;
    return game;
  }

  private spaceShortfall(id: string, local: LocalGame | undefined): SpaceShortfall | null {
    if (this.operations.get(id)) return null;
    const db = this.network?.db;
    const version = db ? newestVersion([this.catalog.get(id)?.eti_version, db.latestVersion(id)]) : null;
    return spaceShortfall(id, this.freeSpace.free, local, db && version ? db.announcedSize(id, version) : null);
  }

  private entryOrThrow(id: string): CatalogEntry {
    const entry = this.catalog.get(id);
    if (!entry) throw new UnknownGameError(id);
    return entry;
  }

  private emitPeerCount(): void {
    this.emit({ type: 'PeerCount', count: this.network?.manager.count ?? 0 });
  }

  private emitLibrary(): void {
    this.emit({ type: 'LibraryChanged', games: this.games() });
  }

  private emit(event: PeerEvent): void {
    this.bus.emit(event);
  }
}
