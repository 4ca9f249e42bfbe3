// One game's download: verified chunks from several peers at once, written in
// place into files created at their final size, with the sentinel committed
// last. Chunks already on disk with the right hash (an interrupted download, or
// the unchanged parts of an update) are kept, not fetched again. Memory stays
// flat: chunk bytes stream from the network to their offset in the file, hashed
// on the way; only `version.ini` is held in memory until the commit.
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SENTINEL_FILE } from '../constants.js';
import { DiskFullError, isDiskFull } from '../disk-space.js';
import { LanspreadError } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestData } from '../peers/peer-client.js';
import type { TransportConnection } from '../transport/transport.js';
import { REQUESTS_PER_SOURCE, chunkCount, hashFileChunks } from './chunks.js';
import { ProgressMeter, type ProgressSnapshot } from './progress.js';
import type { RateLimiter } from './rate-limiter.js';
import { ChunkScheduler, type Chunk } from './scheduler.js';
import { ChunkWriter } from './chunk-writer.js';
import { commitSentinel, parkSentinel, sweepSentinels } from './sentinel.js';
import type { ValidatedGame } from './validate.js';

/** A source counts as "sending" for this long after its last bytes. */
const SENDING_WINDOW_MS = 1_000;

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

/** The download could not finish: every source is gone, or a chunk failed too often. */
export class DownloadFailedError extends LanspreadError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

interface OpenFile {
  path: string;
  handle: fs.FileHandle | null;
  /** version.ini lands here instead of on disk */
  memory: Buffer | null;
}

export async function downloadGame(opts: GameDownloadOptions): Promise<DownloadResult> {
  const { root, plan, signal } = opts;
  await fs.mkdir(root, { recursive: true });
  await parkSentinel(root);
  const files: OpenFile[] = [];
  /** when each peer last delivered bytes: it counts as sending for a second after */
  const lastBytesAt = new Map<string, number>();
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    for (const dir of plan.dirs) await fs.mkdir(path.join(root, dir), { recursive: true });
    const total = plan.files.reduce((n, f) => n + f.size, 0);
    const meter = new ProgressMeter(total);
    const chunks: Chunk[] = [];
    let reused = 0;
    for (const [fileIndex, f] of plan.files.entries()) {
      const open = await openTarget(root, f.path, f.size);
      files.push(open);
      const have =
        open.handle && open.existed
          ? await verifiedChunks(path.join(root, f.path), f.size, f.chunkSize, f.sha256, signal)
          : new Set<number>();
      for (let c = 0; c < chunkCount(f.size, f.chunkSize); c++) {
        const offset = c * f.chunkSize;
        const length = Math.min(f.chunkSize, f.size - offset);
        if (have.has(c)) {
          reused++;
          meter.skip(length);
          continue;
        }
        chunks.push({ index: chunks.length, fileIndex, offset, length, sha256: f.sha256[c]!, peers: f.peers });
      }
    }
    if (reused > 0) opts.logger.info({ id: opts.id, reused }, 'verified chunks already on disk are kept');

    const scheduler = new ChunkScheduler(chunks, {
      slotsPerPeer: opts.slotsPerPeer ?? REQUESTS_PER_SOURCE,
      maxAttempts: opts.maxAttempts ?? 5,
    });
    const emit = () => {
      const now = performance.now();
      const active = [...lastBytesAt.values()].filter((t) => now - t < SENDING_WINDOW_MS).length;
      opts.onProgress({ ...meter.snapshot(), peers: active });
    };
    progressTimer = setInterval(emit, opts.progressIntervalMs ?? 250);
    emit();

    const fetchChunk = async (chunk: Chunk, peerId: string, connection: TransportConnection): Promise<void> => {
      const file = files[chunk.fileIndex]!;
      const { header, body } = await requestData(
        connection,
        { type: 'GetGameFileChunk', id: opts.id, path: plan.files[chunk.fileIndex]!.path, offset: chunk.offset, length: chunk.length },
        { timeoutMs: opts.requestTimeoutMs ?? 15_000, signal },
      );
      if (header.offset !== chunk.offset || header.length !== chunk.length) throw new Error('peer answered another range');
      const hash = createHash('sha256');
      let pos = chunk.offset;
      let counted = 0;
      const idle = opts.requestTimeoutMs ?? 15_000;
      const stalled = () => body.destroy(new Error(`no data for ${idle} ms (${pos - chunk.offset} of ${chunk.length} bytes received)`));
      const timer = setTimeout(stalled, idle);
      const writer = new ChunkWriter(file, chunk.offset);
      try {
        for await (const piece of body as AsyncIterable<Buffer>) {
          timer.refresh(); // restarts the idle timer without a new one per piece
          if (pos + piece.length > chunk.offset + chunk.length) throw new Error('peer sent more than asked');
          await opts.limiter.take(piece.length, signal);
          hash.update(piece);
          await writer.add(piece);
          pos += piece.length;
          counted += piece.length;
          meter.add(piece.length);
          lastBytesAt.set(peerId, performance.now());
          opts.onPeerBytes(peerId, piece.length);
          // The header said how long the answer is: done without waiting for the stream's end.
          if (pos === chunk.offset + chunk.length) break;
        }
        await writer.flush();
      } catch (err) {
        meter.add(-counted);
        throw err;
      } finally {
        clearTimeout(timer);
      }
      if (pos !== chunk.offset + chunk.length) {
        meter.add(-counted);
        throw new Error(`chunk cut short at ${pos - chunk.offset} of ${chunk.length} bytes`);
      }
      if (hash.digest('hex') !== chunk.sha256) {
        meter.add(-counted);
        throw new CorruptChunkError(peerId);
      }
    };

    const deliveries: DownloadResult['deliveries'] = [];
    const corrupt: DownloadResult['corrupt'] = [];
    await runWorkers(opts, scheduler, async (chunk, peerId, connection) => {
      try {
        await fetchChunk(chunk, peerId, connection);
      } catch (err) {
        if (err instanceof CorruptChunkError) corrupt.push({ path: plan.files[chunk.fileIndex]!.path, offset: chunk.offset, peerId });
        throw err;
      }
      deliveries.push({ path: plan.files[chunk.fileIndex]!.path, offset: chunk.offset, length: chunk.length, peerId });
    });
    clearInterval(progressTimer);
    emit();

    // Commit: payload durable first, then the sentinel.
    let sentinel: Buffer | null = null;
    for (const f of files) {
      if (f.memory) sentinel = f.memory;
      else await f.handle!.sync();
    }
    await closeAll(files);
    if (sentinel === null) throw new DownloadFailedError('bad_file_list', 'the peers’ file list has no version.ini');
    await commitSentinel(root, sentinel);
    return {
      chunksByPeer: Object.fromEntries(scheduler.servedBy),
      deliveries,
      corrupt,
      chunksReused: reused,
      bytesFetched: chunks.reduce((n, c) => n + c.length, 0),
    };
  } catch (err) {
    clearInterval(progressTimer);
    await closeAll(files);
    await sweepSentinels(root);
    // nothing is committed: the sentinel stays absent and the chunks written so far resume later
    throw isDiskFull(err) ? new DiskFullError(`downloading "${opts.id}"`, err) : err;
  }
}

class CorruptChunkError extends Error {
  constructor(readonly peerId: string) {
    super(`chunk from ${peerId} does not match its hash`);
  }
}

/** Run `slotsPerPeer` request loops per peer until every chunk is done or the download is blocked. */
async function runWorkers(
  opts: GameDownloadOptions,
  scheduler: ChunkScheduler,
  fetchChunk: (chunk: Chunk, peerId: string, connection: TransportConnection) => Promise<void>,
): Promise<void> {
  const peers = [...new Set(opts.plan.files.flatMap((f) => f.peers))].sort();
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const w = wake;
    changed = new Promise<void>((r) => (wake = r));
    w();
  };
  const live = () => peers.filter((p) => opts.connectionFor(p) !== undefined);
  /** a failure no other peer can help with (the disk is full): every loop stops */
  let fatal: unknown = null;

  const loop = async (peerId: string) => {
    while (!scheduler.finished && fatal === null) {
      opts.signal.throwIfAborted();
      const connection = opts.connectionFor(peerId);
      if (!connection) {
        scheduler.peerGone(peerId);
        notify();
        return;
      }
      const chunk = scheduler.next(peerId);
      if (!chunk) {
        if (scheduler.isBanned(peerId) || scheduler.blocked(live()) !== null) return;
        await Promise.race([changed, sleep(200)]);
        continue;
      }
      try {
        await fetchChunk(chunk, peerId, connection);
        scheduler.complete(chunk, peerId);
      } catch (err) {
        if (opts.signal.aborted) throw opts.signal.reason;
        if (isDiskFull(err)) {
          fatal ??= err;
          notify();
          return;
        }
        const corrupt = err instanceof CorruptChunkError;
        opts.logger.warn(
          { id: opts.id, peerId, chunk: chunk.index, err: (err as Error).message },
          corrupt ? 'corrupt chunk; peer not used again' : 'chunk failed; retrying elsewhere',
        );
        scheduler.fail(chunk, peerId, corrupt ? 'corrupt' : 'error');
        if (!corrupt && !opts.connectionFor(peerId)) scheduler.peerGone(peerId);
      }
      notify();
    }
  };

  const slots = opts.slotsPerPeer ?? REQUESTS_PER_SOURCE;
  const aborted = new Promise<never>((_, reject) => {
    if (opts.signal.aborted) reject(opts.signal.reason);
    opts.signal.addEventListener('abort', () => reject(opts.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  await Promise.race([Promise.all(peers.flatMap((p) => Array.from({ length: slots }, () => loop(p)))), aborted]);
  if (fatal !== null) throw fatal;
  if (!scheduler.finished) {
    const why = scheduler.blocked(live()) ?? 'no peer could deliver the remaining chunks';
    throw new DownloadFailedError('peers_gone', `download of "${opts.id}" failed: ${why}`);
  }
}

async function openTarget(root: string, rel: string, size: number): Promise<OpenFile & { existed: boolean }> {
  if (rel === SENTINEL_FILE) return { path: rel, handle: null, memory: Buffer.alloc(size), existed: false };
  const file = path.join(root, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const before = await fs.lstat(file).catch(() => null);
  if (before && !before.isFile()) throw new DownloadFailedError('bad_target', `"${rel}" exists and is not a regular file`);
  // O_NOFOLLOW: never write through a symlink; no O_TRUNC: chunks are written in place.
  const handle = await fs.open(file, fsc.O_RDWR | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o644);
  const st = await handle.stat();
  if (st.size !== size) await handle.truncate(size); // sparse when growing
  return { path: rel, handle, memory: null, existed: before !== null && before.size > 0 };
}

async function verifiedChunks(
  file: string,
  size: number,
  chunkSize: number,
  expected: string[],
  signal: AbortSignal,
): Promise<Set<number>> {
  const actual = await hashFileChunks(file, size, chunkSize, signal);
  const ok = new Set<number>();
  actual.forEach((h, i) => {
    if (h === expected[i]) ok.add(i);
  });
  return ok;
}

async function closeAll(files: OpenFile[]): Promise<void> {
  for (const f of files) {
    const h = f.handle;
    f.handle = null;
    await h?.close().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
