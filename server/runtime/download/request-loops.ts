// The request loops of a download: `slotsPerPeer` loops per peer, each asking
// the scheduler for a chunk, fetching it and reporting the outcome, until every
// chunk is done or the scheduler says the download cannot finish. All choices
// (which chunk, which peer, when to give up) are the scheduler's; this shell
// only runs them, wakes idle loops when something changed, and stops on abort.
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../../shared/error-codes.js';
import { IDLE_SLOT_POLL_MS } from '../constants.js';
import { isDiskFull } from '../disk-space.js';
import type { Logger } from '../logger.js';
import type { TransportConnection } from '../transport/transport.js';
import { CorruptChunkError, DownloadFailedError } from './download-errors.js';
import type { Chunk, ChunkScheduler } from './scheduler.js';

export interface RequestLoopOptions {
  id: string;
  /** every peer that has at least one file, sorted */
  peers: readonly string[];
  slotsPerPeer: number;
  connectionFor(peerId: string): TransportConnection | undefined;
  signal: AbortSignal;
  logger: Logger;
  /** fetch one chunk; throws CorruptChunkError for a hash mismatch, anything else for a failed request */
  fetch(chunk: Chunk, peerId: string, connection: TransportConnection): Promise<void>;
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
  const live = () => opts.peers.filter((p) => opts.connectionFor(p) !== undefined);
  /** a failure no other peer can help with (the disk is full): every loop stops */
  let fatal: unknown = null;
  const poll = new AbortController();

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
        if (scheduler.isBanned(peerId)) return;
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
      try {
        await opts.fetch(chunk, peerId, connection);
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

  const aborted = new Promise<never>((_, reject) => {
    if (opts.signal.aborted) reject(opts.signal.reason);
    opts.signal.addEventListener('abort', () => reject(opts.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  try {
    await Promise.race([Promise.all(opts.peers.flatMap((p) => Array.from({ length: opts.slotsPerPeer }, () => loop(p)))), aborted]);
  } finally {
    poll.abort(); // no idle poll outlives the download
  }
  if (fatal !== null) throw fatal;
  if (!scheduler.finished) {
    const why = scheduler.blocked(live()) ?? 'no peer could deliver the remaining chunks';
    throw new DownloadFailedError(ErrorCode.PeersGone, `download of "${opts.id}" failed: ${why}`);
  }
}
