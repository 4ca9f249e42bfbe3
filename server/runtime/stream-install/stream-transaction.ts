// One streamed-install attempt as an install transaction (SPEC sections 6 and
// 7), made of the install transactions' own steps (install/transactions.ts)
// and intents (install/intent-journal.ts), so startup recovery settles an
// interrupted attempt like any install: an unfinished "extracting" phase
// (here: receiving) rolls back, every later phase rolls forward.
//
// What streaming adds: the game root may not exist yet (nothing was
// downloaded). The attempt creates it when missing and, when the attempt
// fails, removes it again if it is empty after the rollback; a root that
// existed before is always kept. Once staging has become `local/`, cleanup
// failures are logged and left (with the intent) to startup recovery: the
// install itself has succeeded.
import fs from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../errors.js';
import { isErrno } from '../fs-util.js';
import { clearIntent, writeIntent, type InstallIntent, type Phase } from '../install/intent-journal.js';
import { fsyncTree, lstatOrNull } from '../install/owned-dir.js';
import {
  backUpLocal,
  checkFree,
  checkLocalReplaceable,
  cleanUpInstall,
  createStaging,
  gameLayout,
  InstallErrorCode,
  promoteStaging,
  removeEmptyRoot,
  rollBackInstall,
  type GameLayout,
  type TxContext,
} from '../install/transactions.js';
import type { Logger } from '../logger.js';

export interface StreamAttemptDeps {
  stateDir: string;
  gameDir: string;
  id: string;
  logger: Logger;
}

/**
 * Whether a streamed install may start on this game root: absent, or a real
 * folder directly in the game dir whose `local/` (if any) is a folder and whose
 * staging (and backup, for an update) is free. Returns whether it is an update.
 */
export async function checkStreamTarget(l: GameLayout): Promise<{ update: boolean }> {
  const root = await lstatOrNull(l.root);
  if (root) {
    if (!root.isDirectory())
      throw new LanspreadError(InstallErrorCode.GameRootInvalid, `the game folder of "${l.id}" is not a plain folder`);
    const [realRoot, realGameDir] = await Promise.all([fs.realpath(l.root), fs.realpath(l.gameDir)]);
    if (path.dirname(realRoot) !== realGameDir || path.basename(realRoot) !== l.id) {
      throw new LanspreadError(InstallErrorCode.GameRootInvalid, `the game folder of "${l.id}" is not directly in the game dir`);
    }
  }
  const update = root ? await checkLocalReplaceable(l) : false;
  await checkFree(l.staging);
  if (update) await checkFree(l.backup);
  return { update };
}

export class StreamAttempt {
  readonly layout: GameLayout;
  private kind: 'install' | 'update' = 'install';
  private createdRoot = false;
  private intentWritten = false;
  private readonly startedAt = new Date().toISOString();
  private readonly ctx: TxContext;

  constructor(private readonly deps: StreamAttemptDeps) {
    this.layout = gameLayout(deps.gameDir, deps.id);
    this.ctx = {
      proven: true,
      leftAlone: (where, why) => deps.logger.warn({ id: deps.id, path: where, why }, 'reserved folder left alone'),
    };
  }

  /** Where the streamed files go. */
  get destDir(): string {
    return this.layout.stagingContent;
  }

  /** Check the root, write the intent, make the root if missing and the empty staging. */
  async open(): Promise<void> {
    const { update } = await checkStreamTarget(this.layout);
    this.kind = update ? 'update' : 'install';
    await this.enter('extracting');
    try {
      await fs.mkdir(this.layout.root);
      this.createdRoot = true;
      // said in the intent too, so that recovery after a crash removes the folder again
      await this.enter('extracting');
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    await createStaging(this.layout);
  }

  /** The staged tree becomes `local/` (the old one parked in the backup first, for an update). */
  async promote(): Promise<void> {
    await fsyncTree(this.layout.stagingContent);
    if (this.kind === 'update') {
      await this.enter('backing-up');
      await backUpLocal(this.layout, this.ctx);
    }
    await this.enter('promoting');
    await promoteStaging(this.layout);
  }

  /** After promote(): staging and backup go. A failure is logged and left to startup recovery. */
  async cleanUp(): Promise<void> {
    try {
      await this.enter('cleaning');
      await cleanUpInstall(this.layout, this.ctx);
      await clearIntent(this.deps.stateDir, this.deps.id);
    } catch (err) {
      this.deps.logger.warn(
        { id: this.deps.id, err: (err as Error).message },
        'cleanup after the streamed install failed; startup recovery finishes it',
      );
    }
  }

  /**
   * Back to the state before the attempt: staging goes (an update's parked
   * install returns), and a root this attempt created goes if it is empty.
   * Returns false when that failed; the intent then stays for recovery.
   */
  async rollBack(): Promise<boolean> {
    try {
      await rollBackInstall(this.layout, this.ctx);
      if (this.intentWritten) await clearIntent(this.deps.stateDir, this.deps.id);
    } catch (err) {
      this.deps.logger.error({ id: this.deps.id, err: (err as Error).message }, 'rollback failed; recovery finishes it at the next start');
      return false;
    }
    if (this.createdRoot) {
      try {
        if (await removeEmptyRoot(this.layout))
          this.deps.logger.info({ id: this.deps.id }, 'removed the empty game folder this attempt created');
      } catch (err) {
        this.deps.logger.warn({ id: this.deps.id, err: (err as Error).message }, 'cannot remove the game folder');
      }
    }
    return true;
  }

  private async enter(phase: Phase): Promise<void> {
    const { stateDir, id } = this.deps;
    const intent: InstallIntent = { version: 1, id, kind: this.kind, phase, gameDir: this.layout.gameDir, startedAt: this.startedAt };
    if (this.createdRoot) intent.createdRoot = true;
    await writeIntent(stateDir, intent);
    this.intentWritten = true;
  }
}
