// One game's download: verified chunks from several peers at once, written in
// place into files created at their final size, with the sentinel committed
// last. Three steps, each in its own module: planning (download-plan.ts: open
// the targets, keep the chunks already on disk with the right hash), fetching
// (chunk-fetch.ts, driven by the scheduler through request-loops.ts), and the
// commit here (payload durable first, then the sentinel). Memory stays flat:
// chunk bytes stream from the network to their offset in the file; only
// `version.ini` is held in memory until the commit.
import fs from 'node:fs/promises';
import { ErrorCode } from '../../../shared/error-codes.js';
import { CHUNK_IDLE_TIMEOUT_MS, CHUNK_MAX_ATTEMPTS, DOWNLOAD_PROGRESS_INTERVAL_MS, SENDING_WINDOW_MS } from '../constants.js';
import { REQUESTS_PER_SOURCE } from '../content/chunks.js';
import { DiskFullError, isDiskFull } from '../disk-space.js';
import type { Logger } from '../logger.js';
import { ProgressMeter, type ProgressSnapshot } from '../progress.js';
import type { RateLimiter } from '../transfer/rate-limiter.js';
import type { ValidatedGame } from '../transfer/validate.js';
import type { TransportConnection } from '../transport/transport.js';
import { Bitfield } from '../swarm/bitfield.js';
import type { Swarm, SwarmSession } from '../swarm/swarm.js';
import { fetchChunk, writeChunk, type ChunkFetchContext } from './chunk-fetch.js';
import { CorruptChunkError, DownloadFailedError } from './download-errors.js';
import { closeAll, planDownload, type OpenFile } from './download-plan.js';
import { runRequestLoops } from './request-loops.js';
import { ChunkScheduler, type Chunk } from './scheduler.js';
import { commitSentinel, parkSentinel, sweepSentinels } from './sentinel.js';

export interface DownloadProgress extends ProgressSnapshot {
  /** peers that sent bytes in the last second */
  peers: number;
  /** each peer sending now, with its bytes per second (0 in its first moments) */
  bySource: Record<string, number>;
}

export interface GameDownloadOptions {
  id: string;
  root: string;
  plan: ValidatedGame;
  connectionFor(peerId: string): TransportConnection | undefined;
  limiter: RateLimiter;
  signal: AbortSignal;
  logger: Logger;
  onProgress(p: DownloadProgress): void;
  onPeerBytes(peerId: string, bytes: number): void;
  /** the node's swarm: the download announces its chunks and takes swarm peers as sources (null: complete holders only) */
  swarm: Swarm | null;
  slotsPerPeer?: number;
  maxAttempts?: number;
  requestTimeoutMs?: number;
  progressIntervalMs?: number;
}

export interface DownloadResult {
  /** chunks fetched per peer (chunks verified from disk are not counted) */
  chunksByPeer: Record<string, number>;
  /** every chunk fetched, with the peer that delivered it, in completion order */
  deliveries: { path: string; offset: number; length: number; peerId: string }[];
  /** chunks that failed their hash check, with the peer that sent them */
  corrupt: { path: string; offset: number; peerId: string }[];
  chunksReused: number;
  bytesFetched: number;
}

export async function downloadGame(opts: GameDownloadOptions): Promise<DownloadResult> {
  const { root, plan: game, signal } = opts;
  await fs.mkdir(root, { recursive: true });
  await parkSentinel(root);
  const files: OpenFile[] = [];
  /** bytes from each peer (its speed), and when it last sent some */
  const perPeer = new Map<string, ProgressMeter>();
  const lastBytesAt = new Map<string, number>();
  let progressTimer: NodeJS.Timeout | undefined;
  let session: SwarmSession | null = null;
  try {
    const plan = await planDownload(root, game, signal, files);
    if (plan.reused > 0) opts.logger.info({ id: opts.id, reused: plan.reused }, 'verified chunks already on disk are kept');
    const meter = new ProgressMeter(game.files.reduce((n, f) => n + f.size, 0));
    meter.skip(plan.bytesReused);
    const emit = () => {
      // a peer counts as sending while its last bytes are under a second old; its speed is its own meter's
      const now = performance.now();
      const bySource: Record<string, number> = {};
      for (const [peer, m] of perPeer) {
        const { speed } = m.snapshot(now);
        if (now - (lastBytesAt.get(peer) ?? -Infinity) < SENDING_WINDOW_MS) bySource[peer] = speed;
      }
      opts.onProgress({ ...meter.snapshot(now), peers: Object.keys(bySource).length, bySource });
    };
    progressTimer = setInterval(emit, opts.progressIntervalMs ?? DOWNLOAD_PROGRESS_INTERVAL_MS);
    emit();

    const slotsPerPeer = opts.slotsPerPeer ?? REQUESTS_PER_SOURCE;
    const scheduler = new ChunkScheduler(plan.chunks, { slotsPerPeer, maxAttempts: opts.maxAttempts ?? CHUNK_MAX_ATTEMPTS });
    const validated = [...new Set(game.files.flatMap((f) => f.peers))].sort();
    session = opts.swarm?.begin(opts.id, game, root, plan.have) ?? null;
    const swarmSources = new Set<string>();
    const syncHave = (peerId: string) => {
      const bits = session!.peer(peerId);
      const byPlan = new Bitfield(plan.chunks.length);
      for (const c of plan.chunks) if (bits?.has(c.global)) byPlan.set(c.index);
      if (bits) swarmSources.add(peerId);
      scheduler.setHave(peerId, byPlan);
    };
    for (const peerId of session?.peers() ?? []) syncHave(peerId);
    const deliveries: DownloadResult['deliveries'] = [];
    const corrupt: DownloadResult['corrupt'] = [];
    const ctxFor = (chunk: Chunk): ChunkFetchContext => ({
      id: opts.id,
      file: plan.files[chunk.fileIndex]!,
      limiter: opts.limiter,
      meter,
      idleTimeoutMs: opts.requestTimeoutMs ?? CHUNK_IDLE_TIMEOUT_MS,
      onBytes: (peer: string, bytes: number) => {
        let m = perPeer.get(peer);
        if (!m) perPeer.set(peer, (m = new ProgressMeter(0, SENDING_WINDOW_MS)));
        m.add(bytes);
        lastBytesAt.set(peer, performance.now());
        opts.onPeerBytes(peer, bytes);
      },
    });
    await runRequestLoops(scheduler, {
      id: opts.id,
      peers: () => [...validated, ...[...swarmSources].filter((p) => !validated.includes(p)).sort()],
      slotsPerPeer,
      busyLimitMs: opts.requestTimeoutMs ?? CHUNK_IDLE_TIMEOUT_MS,
      connectionFor: opts.connectionFor,
      signal,
      logger: opts.logger,
      onSourcesChanged: (listener) =>
        session?.onChange((peerId) => {
          syncHave(peerId);
          listener();
        }) ?? (() => undefined),
      fetch: async ({ chunk, duplicate }, peerId, connection, fetchSignal) => {
        const manifest = chunk.peers.includes(peerId) ? undefined : session?.manifest;
        try {
          return await fetchChunk(ctxFor(chunk), chunk, peerId, connection, {
            aside: duplicate,
            signal: fetchSignal,
            ...(manifest ? { manifest } : {}),
          });
        } catch (err) {
          if (err instanceof CorruptChunkError) corrupt.push({ path: plan.files[chunk.fileIndex]!.path, offset: chunk.offset, peerId });
          throw err;
        }
      },
      write: (chunk, bytes) => writeChunk(ctxFor(chunk), chunk, bytes),
      completed: (chunk, peerId) => {
        deliveries.push({ path: plan.files[chunk.fileIndex]!.path, offset: chunk.offset, length: chunk.length, peerId });
        session?.verified(chunk.global);
      },
    });
    clearInterval(progressTimer);
    emit();

    await commit(root, files);
    session?.finish();
    return {
      chunksByPeer: Object.fromEntries(scheduler.servedBy),
      deliveries,
      corrupt,
      chunksReused: plan.reused,
      bytesFetched: plan.chunks.reduce((n, c) => n + c.length, 0),
    };
  } catch (err) {
    clearInterval(progressTimer);
    session?.withdraw();
    await closeAll(files);
    await sweepSentinels(root);
    // nothing is committed: the sentinel stays absent and the chunks written so far resume later
    throw isDiskFull(err) ? new DiskFullError(`downloading "${opts.id}"`, err) : err;
  }
}

/** Commit: every payload file durable first, then the sentinel (the game becomes "downloaded"). */
async function commit(root: string, files: OpenFile[]): Promise<void> {
  let sentinel: Buffer | null = null;
  for (const f of files) {
    if (f.memory) sentinel = f.memory;
    else await f.handle!.sync();
  }
  await closeAll(files);
  if (sentinel === null) throw new DownloadFailedError(ErrorCode.BadFileList, 'the peers’ file list has no version.ini');
  await commitSentinel(root, sentinel);
}
