// The request loops of a download: `slotsPerPeer` loops per source, each asking
// the scheduler for a chunk, fetching it and reporting the outcome, until every
// chunk is done or the scheduler says the download cannot finish. Sources may
// join during the download (swarm peers): every change starts their loops and
// wakes idle ones. All choices (which chunk, which peer, when to give up) are
// the scheduler's; this shell runs them, settles the endgame's races (a second
// copy is fetched aside and written only after the other fetch has stopped, so
// two fetches never write one chunk at once), and stops on abort.
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../../shared/error-codes.js';
import { WireErrorCode } from '../../../shared/wire.js';
import { BUSY_BACKOFF_MS, IDLE_SLOT_POLL_MS } from '../constants.js';
import { isDiskFull } from '../disk-space.js';
import type { Logger } from '../logger.js';
import { WireError } from '../peers/wire-error.js';
import type { TransportConnection } from '../transport/transport.js';
import { CorruptChunkError, DownloadFailedError } from './download-errors.js';
import type { Assignment, Chunk, ChunkFailure, ChunkScheduler } from './scheduler.js';

export interface RequestLoopOptions {
  id: string;
  /** the sources now: validated holders and swarm peers on the manifest */
  peers(): readonly string[];
  slotsPerPeer: number;
  /** a peer that has answered "busy" or "spreading" for this long counts as failing (stuck uploads may hold its slots or chunks) */
  busyLimitMs: number;
  connectionFor(peerId: string): TransportConnection | undefined;
  signal: AbortSignal;
  logger: Logger;
  /** subscribe to changes of the sources (a have-set, a new peer); returns the unsubscribe */
  onSourcesChanged?(listener: () => void): () => void;
  /**
   * Fetch one chunk; throws CorruptChunkError for a hash mismatch, anything
   * else for a failed request. A duplicate's verified bytes are returned, not
   * written; otherwise the bytes are written in place and null is returned.
   */
  fetch(a: Assignment, peerId: string, connection: TransportConnection, signal: AbortSignal): Promise<Buffer | null>;
  /** write a duplicate's verified bytes (it won the race) */
  write(chunk: Chunk, bytes: Buffer): Promise<void>;
  /** the chunk is on disk, verified (its first copy) */
  completed(chunk: Chunk, peerId: string): void;
}

interface Fetching {
  abort: AbortController;
  settled: Promise<void>;
}

/** Run the loops until the scheduler is finished; throws DownloadFailedError when it is blocked, the abort reason on abort. */
export async function runRequestLoops(scheduler: ChunkScheduler, opts: RequestLoopOptions): Promise<void> {
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const w = wake;
    changed = new Promise<void>((r) => (wake = r));
    w();
  };
  const live = () => opts.peers().filter((p) => opts.connectionFor(p) !== undefined);
  /** a failure no other peer can help with (the disk is full): every loop stops */
  let fatal: unknown = null;
  const poll = new AbortController();
  /** fetches in progress, per chunk and peer */
  const fetching = new Map<number, Map<string, Fetching>>();
  /** chunks whose copy fetched aside is being written (it won) */
  const claimed = new Set<number>();
  const loops = new Map<string, number>();
  /** since when each peer has answered nothing but "busy" or "spreading" */
  const busySince = new Map<string, number>();
  let alive = 0;
  let allStopped: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (allStopped = r));

  /** Stop every other fetch of `chunk` and wait until each has stopped writing. */
  const stopOthers = async (chunk: Chunk, peerId: string) => {
    const others = [...(fetching.get(chunk.index) ?? [])].filter(([p]) => p !== peerId).map(([, f]) => f);
    for (const f of others) f.abort.abort();
    await Promise.all(others.map((f) => f.settled));
  };

  const fetchOne = async (a: Assignment, peerId: string, connection: TransportConnection) => {
    const { chunk } = a;
    const abort = new AbortController();
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((r) => (settle = r));
    let byPeer = fetching.get(chunk.index);
    if (!byPeer) fetching.set(chunk.index, (byPeer = new Map()));
    byPeer.set(peerId, { abort, settled });
    // the download's abort reaches this fetch too (one listener per fetch, removed with it)
    const onAbort = () => abort.abort(opts.signal.reason);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const aside = await opts.fetch(a, peerId, connection, abort.signal);
      if (a.duplicate) {
        // Claimed at once, before any await: of two copies fetched aside that arrive together, the second
        // sees the claim and stands down, instead of each waiting for the other to stop.
        if (claimed.has(chunk.index) || scheduler.isDone(chunk)) return scheduler.cancel(chunk, peerId);
        claimed.add(chunk.index);
        try {
          await stopOthers(chunk, peerId);
          if (scheduler.isDone(chunk)) return scheduler.cancel(chunk, peerId);
          await opts.write(chunk, aside!);
        } finally {
          claimed.delete(chunk.index);
        }
      }
      busySince.delete(peerId);
      if (scheduler.complete(chunk, peerId)) {
        opts.completed(chunk, peerId);
        void stopOthers(chunk, peerId); // any other copy is a duplicate fetched aside: it just stops
      }
    } catch (err) {
      if (opts.signal.aborted) throw opts.signal.reason as Error;
      if (abort.signal.aborted) return scheduler.cancel(chunk, peerId);
      if (isDiskFull(err)) {
        fatal ??= err;
        return;
      }
      let why = failureOf(err);
      if (why === 'busy' || why === 'declined') {
        const since = busySince.get(peerId) ?? performance.now();
        busySince.set(peerId, since);
        if (performance.now() - since > opts.busyLimitMs) why = 'error';
      }
      if (why === 'error' || why === 'corrupt') {
        opts.logger.warn(
          { id: opts.id, peerId, chunk: chunk.index, err: (err as Error).message },
          why === 'corrupt' ? 'corrupt chunk; peer not used again' : 'chunk failed; retrying elsewhere',
        );
      }
      scheduler.fail(chunk, peerId, why);
      if (why === 'error' && !opts.connectionFor(peerId)) scheduler.peerGone(peerId);
      if (why === 'busy' || why === 'unavailable') {
        await sleep(BUSY_BACKOFF_MS * (1 + Math.random()), undefined, { signal: opts.signal }).catch(() => undefined);
      }
    } finally {
      opts.signal.removeEventListener('abort', onAbort);
      byPeer.delete(peerId);
      if (byPeer.size === 0 && fetching.get(chunk.index) === byPeer) fetching.delete(chunk.index);
      settle();
    }
  };

  const loop = async (peerId: string) => {
    while (!scheduler.finished && fatal === null) {
      opts.signal.throwIfAborted();
      const connection = opts.connectionFor(peerId);
      if (!connection) {
        scheduler.peerGone(peerId);
        notify();
        return;
      }
      const a = scheduler.next(peerId);
      if (!a) {
        if (!scheduler.takes(peerId)) return; // banned, or gone
        const peersNow = live();
        // every usable peer failed some chunk: let them try it again
        if (scheduler.resetRetries(peersNow) > 0) {
          notify();
          continue;
        }
        if (scheduler.blocked(peersNow) !== null) return;
        await Promise.race([changed, sleep(IDLE_SLOT_POLL_MS, undefined, { signal: poll.signal }).catch(() => undefined)]);
        continue;
      }
      await fetchOne(a, peerId, connection);
      notify();
    }
  };

  const startLoops = () => {
    if (opts.signal.aborted || fatal !== null || scheduler.finished) return;
    for (const peerId of opts.peers()) {
      for (let n = loops.get(peerId) ?? 0; n < opts.slotsPerPeer; n++) {
        loops.set(peerId, (loops.get(peerId) ?? 0) + 1);
        alive++;
        loop(peerId)
          .catch((err: unknown) => {
            // the abort is reported below, once
            if (!opts.signal.aborted) opts.logger.warn({ id: opts.id, peerId, err: (err as Error).message }, 'request loop failed');
          })
          .finally(() => {
            loops.set(peerId, (loops.get(peerId) ?? 1) - 1);
            if (--alive === 0) allStopped();
            notify();
          });
      }
    }
  };

  const aborted = new Promise<never>((_, reject) => {
    if (opts.signal.aborted) reject(opts.signal.reason);
    opts.signal.addEventListener('abort', () => reject(opts.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  const unsubscribe = opts.onSourcesChanged?.(() => {
    startLoops();
    notify();
  });
  try {
    startLoops();
    if (alive > 0) await Promise.race([stopped, aborted]);
  } finally {
    unsubscribe?.();
    poll.abort(); // no idle poll outlives the download
    for (const byPeer of fetching.values()) for (const f of byPeer.values()) f.abort.abort();
  }
  opts.signal.throwIfAborted();
  if (fatal !== null) throw fatal;
  if (!scheduler.finished) {
    const why = scheduler.blocked(live()) ?? 'no peer could deliver the remaining chunks';
    throw new DownloadFailedError(ErrorCode.PeersGone, `download of "${opts.id}" failed: ${why}`);
  }
}

function failureOf(err: unknown): ChunkFailure {
  if (err instanceof CorruptChunkError) return 'corrupt';
  if (err instanceof WireError && err.code === WireErrorCode.Busy) return 'busy';
  if (err instanceof WireError && err.code === WireErrorCode.Spreading) return 'declined';
  if (err instanceof WireError && (err.code === WireErrorCode.ChunkUnavailable || err.code === WireErrorCode.WrongManifest))
    return 'unavailable';
  return 'error';
}
