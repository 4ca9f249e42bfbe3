// Runs downloads as operations: GetGame / FetchLatestFromPeers → file lists
// from catalog-version peers → GotGameFiles → majority validation →
// DownloadGameFiles (the transfer) → sentinel commit → install. Failures leave
// the game not downloaded with a clear lastError; a cancel also removes the
// partial payload (never local/ or install metadata).
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '../../../shared/error-codes.js';
import type { PeerEvent } from '../../../shared/events.js';
import { bytesToWrite, requireSpace, statfsSpace, type DiskSpace } from '../disk-space.js';
import { LanspreadError, ShutdownError, toErrorInfo } from '../errors.js';
import type { Catalog } from '../library/catalog.js';
import type { Logger } from '../logger.js';
import type { OperationRegistry } from '../operations.js';
import type { PeerNetwork } from '../peers/peer-network.js';
import { clearJournal, readJournals, writeJournal } from './download-journal.js';
import { downloadGame } from './game-download.js';
import type { RateLimiter } from '../transfer/rate-limiter.js';
import { catalogVersionSources, fetchValidatedFileList } from '../transfer/file-list.js';
import type { ValidatedGame } from '../transfer/validate.js';
import type { Swarm } from '../swarm/swarm.js';

/** The download was cancelled by the user. */
export class DownloadCancelledError extends LanspreadError {
  constructor(id: string) {
    super(ErrorCode.Cancelled, `download of "${id}" was cancelled`);
  }
}

export interface DownloadServiceDeps {
  catalog: Catalog;
  network: PeerNetwork;
  operations: OperationRegistry;
  stateDir: string;
  gameDir: () => string;
  localVersion: (id: string) => string | null;
  limiter: RateLimiter;
  emit: (event: PeerEvent) => void;
  setLastError: (id: string, error: ReturnType<typeof toErrorInfo> | null) => void;
  onPeerBytes: (peerId: string, bytes: number) => void;
  /** called after a successful download (the automatic install) */
  afterDownload: (id: string) => Promise<void>;
  logger: Logger;
  requestTimeoutMs?: number;
  /** free space of the game dir's file system; default statfs */
  space?: DiskSpace;
  /** the node's swarm (null: downloads use complete holders only) */
  swarm: Swarm | null;
}

export interface LastDownload {
  chunksByPeer: Record<string, number>;
  deliveries: { path: string; offset: number; length: number; peerId: string }[];
  corrupt: { path: string; offset: number; peerId: string }[];
  chunksReused: number;
}

export class DownloadService {
  /** the most recent result per game (for stats and scenario checks) */
  readonly results = new Map<string, LastDownload>();
  /** interrupted downloads, with whether to install them once done */
  private readonly resumable = new Map<string, boolean>();
  private readonly running = new Map<string, Promise<void>>();
  /** per running download: bytes per second from each peer sending now */
  private readonly speeds = new Map<string, Record<string, number>>();

  constructor(private readonly deps: DownloadServiceDeps) {}

  /**
   * Start a download (or an update) of `id`; resolves once it has started.
   * Refused (NotEnoughSpaceError) when even the size the sources announce
   * does not fit; the exact check follows once the file list is known.
   */
  async start(id: string, kind: 'download' | 'update', opts: { install: boolean } = { install: true }): Promise<void> {
    const entry = this.deps.catalog.get(id);
    if (!entry) throw new LanspreadError(ErrorCode.UnknownGame, `no game with id "${id}" in the catalog`);
    const { version, sources } = this.catalogVersionSources(id);
    if (sources.length === 0) {
      throw new LanspreadError(ErrorCode.NoPeers, `no peer has version ${version ?? '(any)'} of "${id}" right now`);
    }
    if (kind === 'update' && this.deps.localVersion(id) === version) {
      throw new LanspreadError(ErrorCode.UpToDate, `"${id}" is already at the newest version (${version})`);
    }
    const op = this.deps.operations.begin(id, 'download', 'fetching file list');
    try {
      const announced = this.deps.network.db.announcedSize(id, version!);
      if (announced !== null) {
        const root = path.join(this.deps.gameDir(), id);
        const have = await payloadBytes(root);
        await requireSpace(this.space, root, announced - have, `download "${id}"`);
      }
    } catch (err) {
      await op.end();
      throw err;
    }
    this.deps.setLastError(id, null);
    const run = this.run(id, version!, sources, op, opts.install).finally(() => {
      this.running.delete(id);
      this.speeds.delete(id);
      return op.end();
    });
    this.running.set(id, run);
  }

  /** Stop every download, keeping what resumes them after a restart. */
  async shutdown(): Promise<void> {
    for (const id of this.running.keys()) this.deps.operations.abort(id, new ShutdownError());
    await Promise.allSettled(this.running.values());
  }

  /** Bytes per second each peer is sending for the download of `id` now (empty when none runs). */
  receiving(id: string): Record<string, number> {
    return this.speeds.get(id) ?? {};
  }

  cancel(id: string): void {
    const op = this.deps.operations.get(id);
    if (!op || op.kind !== 'download') throw new LanspreadError(ErrorCode.NoDownload, `no download of "${id}" is running`);
    this.deps.operations.abort(id, new DownloadCancelledError(id));
  }

  /** Downloads interrupted by a restart; they resume when a source is available. */
  async loadInterrupted(): Promise<void> {
    for (const j of await readJournals(this.deps.stateDir)) this.resumable.set(j.id, j.install !== false);
    this.resumeWhereSourced();
  }

  /** The user removed the game: an interrupted download of it must not come back. */
  async forget(id: string): Promise<void> {
    this.resumable.delete(id);
    await clearJournal(this.deps.stateDir, id);
  }

  /** Called when peers' libraries change: resume what can be resumed now. */
  resumeWhereSourced(): void {
    for (const [id, install] of this.resumable) {
      if (this.deps.operations.get(id)) continue;
      const { version, sources } = this.catalogVersionSources(id);
      if (sources.length === 0) continue;
      this.resumable.delete(id);
      if (version !== null && this.deps.localVersion(id) === version) {
        void clearJournal(this.deps.stateDir, id); // it finished after all
        continue;
      }
      this.deps.logger.info({ id }, 'resuming an interrupted download');
      this.start(id, 'download', { install }).catch((err: unknown) => {
        this.deps.logger.warn({ id, err: (err as Error).message }, 'cannot resume download');
      });
    }
  }

  private get space(): DiskSpace {
    return this.deps.space ?? statfsSpace;
  }

  private catalogVersionSources(id: string): { version: string | null; sources: string[] } {
    return catalogVersionSources(this.deps.catalog, this.deps.network.db, id);
  }

  private async run(
    id: string,
    version: string,
    sources: string[],
    op: ReturnType<OperationRegistry['begin']>,
    install: boolean,
  ): Promise<void> {
    const root = path.join(this.deps.gameDir(), id);
    let plan: ValidatedGame | null = null;
    try {
      plan = await this.fetchPlan(id, version, sources, op.signal);
      // before a byte is fetched: what is already on disk (a resume, an update in place) counts
      await requireSpace(this.space, root, await bytesToWrite(root, plan.files), `download "${id}"`);
      await writeJournal(this.deps.stateDir, { id, version, install, startedAt: new Date().toISOString() });
      const bytesTotal = plan.files.reduce((n, f) => n + f.size, 0);
      op.update({ phase: 'downloading', bytesTotal });
      this.deps.emit({ type: 'DownloadGameFilesBegin', id, bytesTotal });
      const result = await downloadGame({
        id,
        root,
        plan,
        connectionFor: (peerId) => this.deps.network.manager.get(peerId)?.connection,
        limiter: this.deps.limiter,
        signal: op.signal,
        logger: this.deps.logger,
        onPeerBytes: this.deps.onPeerBytes,
        swarm: this.deps.swarm,
        onProgress: ({ bySource, ...p }) => {
          this.speeds.set(id, bySource);
          op.update({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, speed: p.speed, etaSeconds: p.etaSeconds, peers: p.peers });
          this.deps.emit({ type: 'DownloadGameFilesProgress', id, ...p });
        },
        ...(this.deps.requestTimeoutMs ? { requestTimeoutMs: this.deps.requestTimeoutMs } : {}),
      });
      this.results.set(id, {
        chunksByPeer: result.chunksByPeer,
        deliveries: result.deliveries,
        corrupt: result.corrupt,
        chunksReused: result.chunksReused,
      });
      await clearJournal(this.deps.stateDir, id);
      this.deps.logger.info({ id, version, chunksByPeer: result.chunksByPeer, reused: result.chunksReused }, 'download finished');
      this.deps.emit({ type: 'DownloadGameFilesFinished', id });
    } catch (err) {
      await this.failed(id, root, plan, op.signal.aborted ? op.signal.reason : err);
      return;
    }
    await op.end(); // release the game (rescan) before installing it
    if (install) await this.deps.afterDownload(id);
  }

  private fetchPlan(id: string, version: string, sources: string[], signal: AbortSignal): Promise<ValidatedGame> {
    return fetchValidatedFileList(this.deps, id, version, sources, signal);
  }

  private async failed(id: string, root: string, plan: ValidatedGame | null, err: unknown): Promise<void> {
    if (err instanceof ShutdownError) {
      this.deps.logger.info({ id }, 'download interrupted by shutdown; it resumes after the restart');
      return;
    }
    await clearJournal(this.deps.stateDir, id);
    if (err instanceof DownloadCancelledError) {
      if (plan) await removePayload(root, plan);
      this.deps.logger.info({ id }, 'download cancelled; partial payload removed');
      this.deps.emit({ type: 'DownloadGameFilesCancelled', id });
      return;
    }
    const info = toErrorInfo(err);
    this.deps.logger.warn({ id, err: info.message }, 'download failed');
    this.deps.setLastError(id, info);
    if (info.code === ErrorCode.PeersGone) this.deps.emit({ type: 'DownloadPeersGone', id });
    this.deps.emit({ type: 'DownloadGameFilesFailed', id, error: info });
  }
}

/** Bytes of the files already in a game root, outside local/ and dot-folders (what a resume keeps). */
async function payloadBytes(root: string): Promise<number> {
  const entries = await fs.readdir(root, { withFileTypes: true, recursive: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    if (!e.isFile()) continue;
    const rel = path.relative(root, path.join(e.parentPath, e.name));
    if (rel.split(path.sep).some((s, i) => s.startsWith('.') || (i === 0 && s === 'local'))) continue;
    total += await fs.stat(path.join(root, rel)).then(
      (st) => Math.min(st.size, st.blocks * 512),
      () => 0,
    );
  }
  return total;
}

/** Remove what a cancelled download wrote: its files and the folders it made, never local/. */
async function removePayload(root: string, plan: ValidatedGame): Promise<void> {
  for (const f of plan.files) {
    if (f.path === 'version.ini') continue;
    await fs.rm(path.join(root, f.path), { force: true });
  }
  for (const d of [...plan.dirs].sort().reverse()) await fs.rmdir(path.join(root, d)).catch(() => undefined);
  // folders of files, deepest first, only when empty
  const parents = new Set(plan.files.map((f) => path.posix.dirname(f.path)).filter((d) => d !== '.'));
  for (const d of [...parents].sort().reverse()) await fs.rmdir(path.join(root, d)).catch(() => undefined);
}
