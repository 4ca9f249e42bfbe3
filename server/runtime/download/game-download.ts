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
import { fetchChunk } from './chunk-fetch.js';
import { CorruptChunkError, DownloadFailedError } from './download-errors.js';
import { closeAll, planDownload, type OpenFile } from './download-plan.js';
import { runRequestLoops } from './request-loops.js';
import { ChunkScheduler } from './scheduler.js';
import { commitSentinel, parkSentinel, sweepSentinels } from './sentinel.js';

export interface DownloadProgress extends ProgressSnapshot {
  /** peers that sent bytes in the last second */
  peers: number;
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
  /** when each peer last delivered bytes: it counts as sending for a while after */
  const lastBytesAt = new Map<string, number>();
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    const plan = await planDownload(root, game, signal, files);
    if (plan.reused > 0) opts.logger.info({ id: opts.id, reused: plan.reused }, 'verified chunks already on disk are kept');
    const meter = new ProgressMeter(game.files.reduce((n, f) => n + f.size, 0));
    meter.skip(plan.bytesReused);
    const emit = () => {
      const now = performance.now();
      const active = [...lastBytesAt.values()].filter((t) => now - t < SENDING_WINDOW_MS).length;
      opts.onProgress({ ...meter.snapshot(), peers: active });
    };
    progressTimer = setInterval(emit, opts.progressIntervalMs ?? DOWNLOAD_PROGRESS_INTERVAL_MS);
    emit();

    const slotsPerPeer = opts.slotsPerPeer ?? REQUESTS_PER_SOURCE;
    const scheduler = new ChunkScheduler(plan.chunks, { slotsPerPeer, maxAttempts: opts.maxAttempts ?? CHUNK_MAX_ATTEMPTS });
    const deliveries: DownloadResult['deliveries'] = [];
    const corrupt: DownloadResult['corrupt'] = [];
    await runRequestLoops(scheduler, {
      id: opts.id,
      peers: [...new Set(game.files.flatMap((f) => f.peers))].sort(),
      slotsPerPeer,
      connectionFor: opts.connectionFor,
      signal,
      logger: opts.logger,
      fetch: async (chunk, peerId, connection) => {
        const file = plan.files[chunk.fileIndex]!;
        const ctx = {
          id: opts.id,
          file,
          limiter: opts.limiter,
          meter,
          signal,
          idleTimeoutMs: opts.requestTimeoutMs ?? CHUNK_IDLE_TIMEOUT_MS,
          onBytes: (peer: string, bytes: number) => {
            lastBytesAt.set(peer, performance.now());
            opts.onPeerBytes(peer, bytes);
          },
        };
        try {
          await fetchChunk(ctx, chunk, peerId, connection);
        } catch (err) {
          if (err instanceof CorruptChunkError) corrupt.push({ path: file.path, offset: chunk.offset, peerId });
          throw err;
        }
        deliveries.push({ path: file.path, offset: chunk.offset, length: chunk.length, peerId });
      },
    });
    clearInterval(progressTimer);
    emit();

    await commit(root, files);
    return {
      chunksByPeer: Object.fromEntries(scheduler.servedBy),
      deliveries,
      corrupt,
      chunksReused: plan.reused,
      bytesFetched: plan.chunks.reduce((n, c) => n + c.length, 0),
    };
  } catch (err) {
    clearInterval(progressTimer);
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
