// Runs streamed installs as operations (kind `stream-install`, SPEC section 6):
// refresh the file list from the catalog-version peers and validate it by
// majority (the download's own steps), then try the validated peers one by
// one — each attempt an install transaction of its own (stream-transaction.ts)
// that is rolled back before the next peer is tried. Refusals come back from
// start(); once started, the operation reports progress, emits its events and
// sets lastError when every peer failed. A cancel or a shutdown rolls back
// and reports nothing as failed.
import type { ErrorInfo } from '../../../shared/api.js';
import { ErrorCode } from '../../../shared/error-codes.js';
import type { PeerEvent } from '../../../shared/events.js';
import { WireErrorCode } from '../../../shared/wire.js';
import { catalogVersionSources, fetchValidatedFileList } from '../transfer/file-list.js';
import { ProgressMeter } from '../progress.js';
import type { RateLimiter } from '../transfer/rate-limiter.js';
import { LanspreadError, ShutdownError, toErrorInfo } from '../errors.js';
import { recoverGame } from '../install/recovery.js';
import { gameLayout, InstallErrorCode } from '../install/transactions.js';
import { requireSpace, statfsSpace, type DiskSpace } from '../disk-space.js';
import type { Catalog } from '../library/catalog.js';
import type { Logger } from '../logger.js';
import type { OperationHandle, OperationRegistry } from '../operations.js';
import type { PeerNetwork } from '../peers/peer-network.js';
import { StreamInstallCancelledError, StreamInstallError, StreamInstallErrorCode } from './errors.js';
import { orderSenders, validatedPeers } from './peer-order.js';
import { receiveStreamInstall, type StreamBegin } from './receiver.js';
import { checkStreamTarget, StreamAttempt } from './stream-transaction.js';

export interface StreamInstallServiceDeps {
  /** this node's peer id (orders the senders) */
  selfId: string;
  catalog: Catalog;
  network: PeerNetwork;
  operations: OperationRegistry;
  stateDir: string;
  gameDir: () => string;
  /** the download limit applies to streamed bytes too */
  limiter: RateLimiter;
  emit: (event: PeerEvent) => void;
  setLastError: (id: string, error: ErrorInfo | null) => void;
  onPeerBytes: (peerId: string, bytes: number) => void;
  /** the streamed tree has become `local/`: it holds `version` (recorded in the state dir) */
  installed?: (id: string, version: string) => Promise<void>;
  logger: Logger;
  /** an attempt fails when its sender sends nothing for this long; default 30 s */
  stallTimeoutMs?: number;
  /** a peer that answered `busy` is asked again after this long, at most `busyRetries` times; default 2 s, 5 */
  busyRetryMs?: number;
  busyRetries?: number;
  /** free space of the game dir's file system; default statfs */
  space?: DiskSpace;
}

const PROGRESS_INTERVAL_MS = 200;

export class StreamInstallService {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(private readonly deps: StreamInstallServiceDeps) {}

  /** Start a streamed install of `id`; resolves once it has started, rejects with a refusal. */
  async start(id: string): Promise<void> {
    if (this.stopping) throw new LanspreadError(InstallErrorCode.ShuttingDown, 'the node is shutting down');
    if (!this.deps.catalog.get(id)) throw new LanspreadError(ErrorCode.UnknownGame, `no game with id "${id}" in the catalog`);
    const { version, sources } = catalogVersionSources(this.deps.catalog, this.deps.network.db, id);
    if (sources.length === 0 || version === null) {
      throw new LanspreadError(ErrorCode.NoPeers, `no peer has version ${version ?? '(any)'} of "${id}" right now`);
    }
    const op = this.deps.operations.begin(id, 'stream-install', 'fetching file list');
    try {
      const gameDir = this.deps.gameDir();
      const report = await recoverGame({ stateDir: this.deps.stateDir, gameDir, id, logger: this.deps.logger });
      const failed = report.games.find((g) => g.outcome === 'failed');
      if (failed) {
        throw new LanspreadError(
          InstallErrorCode.RecoveryFailed,
          `an interrupted operation on "${id}" could not be finished: ${failed.error?.message ?? ''}`,
        );
      }
      await checkStreamTarget(gameLayout(gameDir, id));
      // the extracted size is known only once a sender has begun; what the sources announce (the archives) is a floor
      const announced = this.deps.network.db.announcedSize(id, version);
      if (announced !== null) await requireSpace(this.space, gameLayout(gameDir, id).root, announced, `install "${id}"`);
    } catch (err) {
      await op.end();
      throw err;
    }
    this.deps.setLastError(id, null);
    const run = this.run(id, version, sources, op)
      .catch((err: unknown) => this.deps.logger.error({ id, err: (err as Error).message }, 'streamed install crashed'))
      .finally(() => {
        this.running.delete(id);
        return op.end();
      });
    this.running.set(id, run);
  }

  cancel(id: string): void {
    const op = this.deps.operations.get(id);
    if (op?.kind !== 'stream-install') throw new LanspreadError(ErrorCode.NoDownload, `no streamed install of "${id}" is running`);
    this.deps.operations.abort(id, new StreamInstallCancelledError(id));
  }

  /** Stop: refuse new ones, abort running ones (each rolls back) and wait for them. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const id of this.running.keys()) this.deps.operations.abort(id, new ShutdownError());
    await Promise.allSettled(this.running.values());
  }

  private async run(id: string, version: string, sources: string[], op: OperationHandle): Promise<void> {
    let peers: string[];
    try {
      const plan = await fetchValidatedFileList(this.deps, id, version, sources, op.signal);
      peers = orderSenders(this.deps.selfId, id, validatedPeers(plan));
      if (peers.length === 0) {
        throw new StreamInstallError(StreamInstallErrorCode.NoValidatedPeer, `no peer agrees with the majority on every file of "${id}"`);
      }
    } catch (err) {
      this.failed(id, op, err, []);
      return;
    }
    this.deps.emit({ type: 'InstallGameBegin', id });
    this.deps.logger.info({ id, version, peers }, 'streamed install: validated peers, in order');
    const failures: { peerId: string; error: ErrorInfo }[] = [];
    const busy = new Map<string, number>();
    const queue = [...peers];
    while (queue.length > 0 && !op.signal.aborted) {
      const peerId = queue.shift()!;
      const attempt = new StreamAttempt({ stateDir: this.deps.stateDir, gameDir: this.deps.gameDir(), id, logger: this.deps.logger });
      try {
        const connection = this.deps.network.manager.get(peerId)?.connection;
        if (!connection) throw new LanspreadError(ErrorCode.PeersGone, `peer ${peerId} is gone`);
        op.update({ phase: 'receiving', bytesDone: 0, bytesTotal: 0, speed: 0, etaSeconds: null, peers: 1 });
        await attempt.open();
        await this.receive(id, peerId, version, attempt.destDir, op);
        op.update({ phase: 'promoting', peers: 0 });
        await attempt.promote();
        await this.recordVersion(id, version);
      } catch (err) {
        const clean = await attempt.rollBack();
        if (op.signal.aborted) {
          this.stopped(id, op);
          return;
        }
        const error = toErrorInfo(err);
        failures.push({ peerId, error });
        this.deps.logger.warn({ id, peerId, code: error.code, err: error.message }, 'streamed install from this peer failed; rolled back');
        this.deps.emit({ type: 'StreamInstallPeerFailed', id, peerId, error });
        if (!clean) break; // the staging is still there: no next attempt can start
        const tries = busy.get(peerId) ?? 0;
        if (error.code === WireErrorCode.Busy && tries < (this.deps.busyRetries ?? 5)) {
          busy.set(peerId, tries + 1);
          queue.push(peerId);
          if (queue.length === 1 || queue.every((p) => busy.has(p))) await this.pause(this.deps.busyRetryMs ?? 2_000, op.signal);
        }
        continue;
      }
      await attempt.cleanUp();
      this.deps.logger.info({ id, peerId, failedPeers: failures.length }, 'streamed install finished');
      this.deps.emit({ type: 'InstallGameFinished', id });
      return;
    }
    if (op.signal.aborted) this.stopped(id, op);
    else this.failed(id, op, null, failures);
  }

  /** One attempt: stream into staging, with progress, the download limit and a free-space check. */
  private async receive(id: string, peerId: string, version: string, destDir: string, op: OperationHandle): Promise<void> {
    const connection = this.deps.network.manager.get(peerId)?.connection;
    if (!connection) throw new LanspreadError(ErrorCode.PeersGone, `peer ${peerId} is gone`);
    let meter = new ProgressMeter(0);
    let lastReport = 0;
    const report = (force: boolean): void => {
      const now = performance.now();
      if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      const s = meter.snapshot(now);
      op.update({ bytesDone: s.bytesDone, bytesTotal: s.bytesTotal, speed: s.speed, etaSeconds: s.etaSeconds, peers: 1 });
      this.deps.emit({ type: 'StreamInstallProgress', id, ...s, peers: 1 });
    };
    await receiveStreamInstall(connection, id, destDir, {
      signal: op.signal,
      expectVersion: version,
      ...(this.deps.stallTimeoutMs ? { stallTimeoutMs: this.deps.stallTimeoutMs } : {}),
      onBegin: async (begin: StreamBegin) => {
        await requireSpace(this.space, destDir, begin.bytes_total, `install "${id}"`);
        meter = new ProgressMeter(begin.bytes_total);
        report(true);
      },
      onData: async (bytes) => {
        meter.add(bytes);
        this.deps.onPeerBytes(peerId, bytes);
        report(false);
        await this.deps.limiter.take(bytes, op.signal);
      },
    });
    report(true);
  }

  /** The install is in place: a failure to record its version is logged, not a failed install. */
  private async recordVersion(id: string, version: string): Promise<void> {
    try {
      await this.deps.installed?.(id, version);
    } catch (err) {
      this.deps.logger.warn({ id, version, err: (err as Error).message }, 'cannot record the streamed version');
    }
  }

  private get space(): DiskSpace {
    return this.deps.space ?? statfsSpace;
  }

  /** Cancelled or stopped by shutdown: rolled back already; nothing is reported as failed. */
  private stopped(id: string, op: OperationHandle): void {
    if (op.signal.reason instanceof StreamInstallCancelledError) {
      this.deps.logger.info({ id }, 'streamed install cancelled; rolled back');
      this.deps.emit({ type: 'StreamInstallCancelled', id });
    } else {
      this.deps.logger.info({ id }, 'streamed install stopped by shutdown; rolled back');
    }
  }

  private failed(id: string, op: OperationHandle, err: unknown, failures: { peerId: string; error: ErrorInfo }[]): void {
    if (op.signal.aborted) {
      this.stopped(id, op);
      return;
    }
    const last = failures[failures.length - 1];
    const error: ErrorInfo = err
      ? toErrorInfo(err)
      : {
          code: last?.error.code ?? ErrorCode.PeersGone,
          message: `no validated peer could stream "${id}": ${failures.map((f) => `${f.peerId}: ${f.error.message}`).join('; ')}`,
        };
    this.deps.logger.warn({ id, code: error.code, err: error.message }, 'streamed install failed');
    this.deps.setLastError(id, error);
    this.deps.emit({ type: 'InstallGameFailed', id, error });
  }

  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
