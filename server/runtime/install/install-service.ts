// Runs install, update, uninstall and remove-downloaded as operations (at most
// one per game): refusals come back from the call with a stable code; once an
// operation has started it runs in the background, reports its phase and
// progress, emits its lifecycle events and sets `lastError` on failure.
//
// Each transaction writes its intent before every phase (intent-journal.ts) and
// moves the game through the idempotent steps of transactions.ts. A failure
// before the new install is in place rolls back to the old one; a failure to
// clean up after it is in place is left, with its intent, to recovery.
import type { ErrorInfo, OperationKind } from '../../../shared/api.js';
import { ErrorCode } from '../../../shared/error-codes.js';
import type { PeerEvent } from '../../../shared/events.js';
import { requireSpace, statfsSpace, type DiskSpace } from '../disk-space.js';
import { ProgressMeter } from '../progress.js';
import { LanspreadError, toErrorInfo } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OperationHandle, OperationRegistry } from '../operations.js';
import { pauseHookFromEnv, type Checkpoint, type CheckpointHook } from './install-checkpoints.js';
import { clearIntent, writeIntent, type IntentKind, type Phase } from './intent-journal.js';
import { fsyncTree, isRealDir } from './owned-dir.js';
import { declaredSize } from '../extract/rar-declared-size.js';
import { recoverAll, recoverGame, type RecoveryReport } from './recovery.js';
import {
  backUpLocal,
  checkDownloaded,
  checkFree,
  checkLocalReplaceable,
  checkRemovable,
  cleanUpInstall,
  createStaging,
  findArchives,
  gameLayout,
  InstallErrorCode,
  parkLocalForRemoval,
  parkRootForRemoval,
  promoteStaging,
  rollBackInstall,
  rollBackRemove,
  rollBackUninstall,
  rollForwardRemove,
  rollForwardUninstall,
  type GameLayout,
  type TxContext,
} from './transactions.js';
import { ExtractError, type Unpacker } from '../extract/unpacker.js';

/** A stable code for every failure: ours and the unpacker's as they are, anything else (file system errors) as install_failed. */
function failureInfo(err: unknown): ErrorInfo {
  if (err instanceof LanspreadError || err instanceof ExtractError) return { code: err.code, message: err.message };
  return { code: InstallErrorCode.Failed, message: toErrorInfo(err).message };
}

export interface InstallServiceDeps {
  operations: OperationRegistry;
  stateDir: string;
  gameDir: () => string;
  unpacker: Unpacker;
  emit: (event: PeerEvent) => void;
  setLastError: (id: string, error: ErrorInfo | null) => void;
  /** `local/` was replaced by an install from the archives, or removed (a streamed version no longer applies) */
  localReplaced?: (id: string) => Promise<void>;
  logger: Logger;
  /** called at every checkpoint (tests); default: the LANSPREAD_TEST_PAUSE_AT switch */
  checkpoint?: CheckpointHook;
  /** free space of the game dir's file system; default statfs */
  space?: DiskSpace;
}

/** One started transaction: what it needs to write its intents and report. */
interface Run {
  id: string;
  kind: IntentKind;
  layout: GameLayout;
  op: OperationHandle;
  startedAt: string;
  ctx: TxContext;
}

export class InstallService {
  private readonly running = new Map<string, Promise<void>>();
  private readonly hook: CheckpointHook | undefined;
  private stopping = false;

  constructor(private readonly deps: InstallServiceDeps) {
    this.hook = deps.checkpoint ?? pauseHookFromEnv();
  }

  /** Startup recovery of every game; a game that cannot be recovered gets a lastError. */
  async recover(): Promise<RecoveryReport> {
    const report = await recoverAll({ stateDir: this.deps.stateDir, gameDir: this.deps.gameDir(), logger: this.deps.logger });
    for (const g of report.games) {
      if (g.outcome === 'failed') this.deps.setLastError(g.id, this.recoveryFailed(g.id, g.error).toInfo());
    }
    return report;
  }

  /** Install a downloaded game; an installed one is updated (re-extracted and swapped). */
  async install(id: string): Promise<void> {
    const { begun, prep } = await this.begin(id, 'install', async (l) => {
      await checkDownloaded(l);
      const update = await checkLocalReplaceable(l);
      await checkFree(l.staging);
      if (update) await checkFree(l.backup);
      const archives = await findArchives(l.root);
      if (archives.length === 0) throw new LanspreadError(InstallErrorCode.NoArchives, `"${id}" has no .eti or .rar archive to install`);
      // an update keeps the old install until the new one is in place: it is already counted as used
      await requireSpace(this.deps.space ?? statfsSpace, l.root, declaredSize(archives), `install "${id}"`);
      return { update, archives };
    });
    const run = this.newRun(begun, prep.update ? 'update' : 'install');
    this.track(run, () => this.runInstall(run, prep.update, prep.archives));
  }

  /** The automatic install after a download: a refusal becomes the game's lastError. */
  async installAfterDownload(id: string): Promise<void> {
    try {
      await this.install(id);
    } catch (err) {
      const error = failureInfo(err);
      this.deps.logger.warn({ id, err: error.message }, 'downloaded, but cannot install it');
      this.deps.setLastError(id, error);
      this.deps.emit({ type: 'InstallGameFailed', id, error });
    }
  }

  /** Remove `local/`. */
  async uninstall(id: string): Promise<void> {
    const { begun } = await this.begin(id, 'uninstall', async (l) => {
      if (!(await isRealDir(l.local))) throw new LanspreadError(ErrorCode.NotInstalled, `"${id}" is not installed`);
      await checkFree(l.removing);
    });
    const run = this.newRun(begun, 'uninstall');
    this.track(run, () => this.runUninstall(run));
  }

  /** Remove the downloaded game root (SPEC section 7's refusals apply). */
  async removeDownloaded(id: string): Promise<void> {
    const { begun } = await this.begin(id, 'remove', async (l) => {
      await checkRemovable(l);
      await checkFree(l.trash);
    });
    const run = this.newRun(begun, 'remove');
    this.track(run, () => this.runRemove(run));
  }

  /** Settles when the operation on `id` started here has ended (resolves at once when none). */
  async idle(id: string): Promise<void> {
    await this.running.get(id);
  }

  /** Stop: refuse new operations, abort running ones (each rolls back) and wait for them. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const id of this.running.keys())
      this.deps.operations.abort(id, new LanspreadError(InstallErrorCode.ShuttingDown, 'the node is shutting down'));
    await Promise.allSettled(this.running.values());
  }

  // ---------------------------------------------------------------- running

  /** Take the game (or be refused), finish any interrupted operation on it, then check the preconditions. */
  private async begin<T>(
    id: string,
    kind: OperationKind,
    prepare: (l: GameLayout) => Promise<T>,
  ): Promise<{ begun: { id: string; op: OperationHandle; layout: GameLayout }; prep: T }> {
    if (this.stopping) throw new LanspreadError(InstallErrorCode.ShuttingDown, 'the node is shutting down');
    const op = this.deps.operations.begin(id, kind);
    try {
      const layout = gameLayout(this.deps.gameDir(), id);
      const report = await recoverGame({ stateDir: this.deps.stateDir, gameDir: layout.gameDir, id, logger: this.deps.logger });
      const failed = report.games.find((g) => g.outcome === 'failed');
      if (failed) throw this.recoveryFailed(id, failed.error);
      const prep = await prepare(layout);
      return { begun: { id, op, layout }, prep };
    } catch (err) {
      await op.end(err);
      throw err;
    }
  }

  private newRun(begun: { id: string; op: OperationHandle; layout: GameLayout }, kind: IntentKind): Run {
    const ctx: TxContext = {
      proven: true,
      leftAlone: (where, why) => this.deps.logger.warn({ id: begun.id, path: where, why }, 'reserved folder left alone'),
    };
    return { ...begun, kind, startedAt: new Date().toISOString(), ctx };
  }

  private track(run: Run, work: () => Promise<void>): void {
    this.deps.setLastError(run.id, null);
    const done = work()
      .catch((err: unknown) => this.deps.logger.error({ id: run.id, err: (err as Error).message }, 'install operation crashed'))
      .finally(() => {
        this.running.delete(run.id);
        return run.op.end();
      });
    this.running.set(run.id, done);
  }

  /** Write the intent for `phase`, show it, then pass its checkpoint. */
  private async enter(run: Run, phase: Phase): Promise<void> {
    const { id, kind, layout, startedAt } = run;
    run.op.signal.throwIfAborted();
    await writeIntent(this.deps.stateDir, { version: 1, id, kind, phase, gameDir: layout.gameDir, startedAt });
    run.op.update({ phase });
    await this.checkpoint(run, phase);
  }

  private async checkpoint(run: Run, checkpoint: Checkpoint): Promise<void> {
    await this.hook?.(run.kind, checkpoint, run.op.signal);
  }

  private async runInstall(run: Run, update: boolean, archives: string[]): Promise<void> {
    const { id, layout: l } = run;
    this.deps.emit({ type: 'InstallGameBegin', id });
    this.deps.logger.info({ id, update, archives: archives.length }, update ? 'updating the install' : 'installing');
    try {
      await this.enter(run, 'extracting');
      await createStaging(l);
      await this.extract(run, archives);
      await fsyncTree(l.stagingContent);
      await this.checkpoint(run, 'extracting:done');
      if (update) {
        await this.enter(run, 'backing-up');
        await backUpLocal(l, run.ctx);
        await this.checkpoint(run, 'backing-up:done');
      }
      await this.enter(run, 'promoting');
      await promoteStaging(l);
    } catch (err) {
      await this.rollBack(run, () => rollBackInstall(l, run.ctx));
      this.failed(run, err, 'InstallGameFailed');
      return;
    }
    // the new install is in place: from here on nothing is a failed install
    await this.finish(run, 'promoting:done', () => cleanUpInstall(l, run.ctx));
    await this.forgetStreamedVersion(id);
    this.deps.logger.info({ id }, 'installed');
    this.deps.emit({ type: 'InstallGameFinished', id });
  }

  private async extract(run: Run, archives: string[]): Promise<void> {
    let meter: ProgressMeter | null = null;
    let seen = 0;
    let mid: Promise<void> | null = null;
    const pauseMid = () => {
      mid = this.checkpoint(run, 'extracting:mid');
      mid.catch(() => undefined); // awaited below; do not let an early rejection go unhandled
    };
    await this.deps.unpacker.extract(archives, run.layout.stagingContent, {
      signal: run.op.signal,
      onProgress: (p) => {
        meter ??= new ProgressMeter(p.bytesTotal);
        meter.add(Math.max(0, p.bytesDone - seen));
        seen = Math.max(seen, p.bytesDone);
        const s = meter.snapshot();
        run.op.update({ bytesDone: s.bytesDone, bytesTotal: s.bytesTotal, speed: s.speed, etaSeconds: s.etaSeconds });
        if (mid === null && p.bytesDone > 0) pauseMid();
      },
    });
    if (mid === null) pauseMid();
    await mid;
  }

  private async runUninstall(run: Run): Promise<void> {
    const { id, layout: l } = run;
    this.deps.emit({ type: 'UninstallGameBegin', id });
    try {
      await this.enter(run, 'moving');
      await parkLocalForRemoval(l, run.ctx);
    } catch (err) {
      await this.rollBack(run, () => rollBackUninstall(l, run.ctx));
      this.failed(run, err, 'UninstallGameFailed');
      return;
    }
    await this.finish(run, 'moving:done', () => rollForwardUninstall(l, 'deleting', run.ctx), 'deleting');
    await this.forgetStreamedVersion(id);
    this.deps.logger.info({ id }, 'uninstalled');
    this.deps.emit({ type: 'UninstallGameFinished', id });
  }

  private async runRemove(run: Run): Promise<void> {
    const { id, layout: l } = run;
    try {
      await this.enter(run, 'moving');
      await parkRootForRemoval(l, run.ctx);
    } catch (err) {
      await this.rollBack(run, () => rollBackRemove(l, run.ctx));
      this.failed(run, err, null);
      return;
    }
    await this.finish(run, 'moving:done', () => rollForwardRemove(l, 'deleting', run.ctx), 'deleting');
    this.deps.logger.info({ id }, 'downloaded files removed');
  }

  /**
   * After the point of no return: pass `doneCheckpoint`, enter the last phase,
   * clean up and clear the intent. A failure here is logged and left, with its
   * intent, to recovery; the operation still succeeded.
   */
  private async finish(run: Run, doneCheckpoint: Checkpoint, cleanUp: () => Promise<unknown>, phase: Phase = 'cleaning'): Promise<void> {
    try {
      await this.checkpoint(run, doneCheckpoint);
      await this.enter(run, phase);
      await cleanUp();
      await this.checkpoint(run, `${phase}:done` as Checkpoint);
      await clearIntent(this.deps.stateDir, run.id);
    } catch (err) {
      this.deps.logger.warn({ id: run.id, err: (err as Error).message }, 'cleanup after the operation failed; recovery finishes it');
    }
  }

  private async forgetStreamedVersion(id: string): Promise<void> {
    try {
      await this.deps.localReplaced?.(id);
    } catch (err) {
      this.deps.logger.warn({ id, err: (err as Error).message }, 'cannot drop the streamed version record');
    }
  }

  /** Undo a failed operation; when that fails too, the intent stays for recovery. */
  private async rollBack(run: Run, undo: () => Promise<unknown>): Promise<void> {
    try {
      await undo();
      await clearIntent(this.deps.stateDir, run.id);
    } catch (err) {
      this.deps.logger.error({ id: run.id, err: (err as Error).message }, 'rollback failed; recovery finishes it at the next start');
    }
  }

  private failed(run: Run, err: unknown, event: 'InstallGameFailed' | 'UninstallGameFailed' | null): void {
    if (this.stopping && run.op.signal.aborted) {
      this.deps.logger.info({ id: run.id, kind: run.kind }, 'operation stopped by shutdown and rolled back');
      return;
    }
    const error = failureInfo(err);
    this.deps.logger.warn({ id: run.id, kind: run.kind, code: error.code, err: error.message }, 'operation failed');
    this.deps.setLastError(run.id, error);
    if (event) this.deps.emit({ type: event, id: run.id, error });
  }

  private recoveryFailed(id: string, cause: ErrorInfo | undefined): LanspreadError {
    return new LanspreadError(
      InstallErrorCode.RecoveryFailed,
      `an interrupted operation on "${id}" could not be finished${cause ? `: ${cause.message}` : ''}`,
    );
  }
}
