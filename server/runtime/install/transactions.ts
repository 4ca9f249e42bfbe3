// The file system side of install transactions (SPEC section 7): the layout of
// a game root's reserved folders, the checks before an operation, and the
// steps that move a game from its old state to its new one. Every step is
// idempotent and reads the state it starts from, so the live operation, its
// rollback after a failure and startup recovery all run the same code.
//
//   <game dir>/<id>/local/                    the install
//   <game dir>/<id>/.local.installing/        staging, owned; extraction goes to its `local/`
//   <game dir>/<id>/.local.backup/            owned; the previous `local/` sits in its `local/`
//   <game dir>/<id>/.local.removing/          owned; an uninstalled `local/` sits in its `local/`
//   <game dir>/.lanspread-removing-<id>/      owned; a removed game root sits in its `<id>/`
//
// A folder is deleted only when it is owned (owned-dir.ts), or, when an intent
// proves Lanspread made it, when it holds nothing but marker leftovers.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, InstallErrorCode } from '../../../shared/error-codes.js';
import { archiveFiles } from '../extract/rar-volumes.js';
import { INSTALL_DIR, SENTINEL_FILE } from '../constants.js';
import { LanspreadError } from '../errors.js';
import { fsyncDir, isErrno } from '../fs-util.js';
import type { IntentKind, Phase } from './intent-journal.js';
import { createOwnedDir, dirState, isRealDir, lstatOrNull, removeOwnedDir } from './owned-dir.js';

export const STAGING_DIR = '.local.installing';
export const BACKUP_DIR = '.local.backup';
export const REMOVING_DIR = '.local.removing';
export const TRASH_PREFIX = '.lanspread-removing-';

/** Error codes of install transactions (in the shared registry; statuses in http/errors.ts). */
export { InstallErrorCode };

/** A reserved path is taken by a file or folder Lanspread cannot prove it made. */
export class ReservedPathError extends LanspreadError {
  constructor(readonly where: string) {
    super(InstallErrorCode.ReservedPathInUse, `${where} is in the way and was not made by Lanspread; move it away and retry`);
  }
}

export interface GameLayout {
  gameDir: string;
  id: string;
  root: string;
  local: string;
  staging: string;
  /** where extraction writes */
  stagingContent: string;
  backup: string;
  /** the previous install during an update */
  backupContent: string;
  removing: string;
  removingContent: string;
  trash: string;
  trashContent: string;
}

export function gameLayout(gameDir: string, id: string): GameLayout {
  const root = path.join(gameDir, id);
  const staging = path.join(root, STAGING_DIR);
  const backup = path.join(root, BACKUP_DIR);
  const removing = path.join(root, REMOVING_DIR);
  const trash = path.join(gameDir, `${TRASH_PREFIX}${id}`);
  return {
    gameDir,
    id,
    root,
    local: path.join(root, INSTALL_DIR),
    staging,
    stagingContent: path.join(staging, INSTALL_DIR),
    backup,
    backupContent: path.join(backup, INSTALL_DIR),
    removing,
    removingContent: path.join(removing, INSTALL_DIR),
    trash,
    trashContent: path.join(trash, id),
  };
}

/** What a transaction reports while it works: every folder it had to leave alone. */
export interface TxContext {
  /** an intent proves the operation was under way: unmarked empty reserved folders are ours */
  proven: boolean;
  leftAlone(where: string, why: string): void;
}

// ------------------------------------------------------------------ checks

async function isRegularFile(p: string): Promise<boolean> {
  return (await lstatOrNull(p))?.isFile() ?? false;
}

/** A downloaded game's root: a real folder with a regular root-level `version.ini`. */
export async function checkDownloaded(l: GameLayout): Promise<void> {
  const root = await lstatOrNull(l.root);
  if (!root) throw new LanspreadError(ErrorCode.NotDownloaded, `"${l.id}" is not downloaded (no game folder)`);
  if (!root.isDirectory()) throw new LanspreadError(InstallErrorCode.GameRootInvalid, `the game folder of "${l.id}" is not a plain folder`);
  const [realRoot, realGameDir] = await Promise.all([fs.realpath(l.root), fs.realpath(l.gameDir)]);
  if (path.dirname(realRoot) !== realGameDir || path.basename(realRoot) !== l.id) {
    throw new LanspreadError(InstallErrorCode.GameRootInvalid, `the game folder of "${l.id}" is not directly in the game dir`);
  }
  if (!(await isRegularFile(path.join(l.root, SENTINEL_FILE)))) {
    throw new LanspreadError(ErrorCode.NotDownloaded, `"${l.id}" is not downloaded (no ${SENTINEL_FILE})`);
  }
}

/**
 * The archives of a game: `*.eti` and `*.rar` (with the old-style volumes
 * `*.r00` … of a multi-volume set) outside `local/` and dot-folders, sorted by path.
 */
export async function findArchives(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const entry of entries) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.') || (rel === '' && entry.name === INSTALL_DIR)) continue;
        await walk(childRel);
      } else if (entry.isFile() && !entry.name.startsWith('.')) {
        found.push(childRel);
      }
    }
  };
  await walk('');
  const archives = archiveFiles(found).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return archives.map((rel) => path.join(root, rel));
}

/** `local/` is absent or a real folder; anything else there blocks an install. */
export async function checkLocalReplaceable(l: GameLayout): Promise<boolean> {
  const st = await lstatOrNull(l.local);
  if (!st) return false;
  if (!st.isDirectory()) throw new ReservedPathError(l.local);
  return true;
}

/** A reserved folder an operation needs must be free (after recovery ran, an owned one is gone). */
export async function checkFree(where: string): Promise<void> {
  if ((await dirState(where)) !== 'absent') throw new ReservedPathError(where);
}

// ------------------------------------------------------------------ steps

/** Make an owned folder at `dir`, reusing an owned one and replacing a proven empty one. */
async function ensureOwned(dir: string, purpose: string, ctx: TxContext): Promise<void> {
  const state = await dirState(dir);
  if (state === 'owned') return;
  if (state === 'unmarked-empty' && ctx.proven) await removeOwnedDir(dir, { allowUnmarkedEmpty: true });
  else if (state !== 'absent') throw new ReservedPathError(dir);
  await createOwnedDir(dir, purpose);
}

async function removeIfOurs(dir: string, ctx: TxContext): Promise<void> {
  if (!(await removeOwnedDir(dir, { allowUnmarkedEmpty: ctx.proven }))) {
    ctx.leftAlone(dir, 'not made by Lanspread');
  }
}

async function renameDurably(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
}

/** Make the empty staging (owned) with its empty content folder. */
export async function createStaging(l: GameLayout): Promise<void> {
  await createOwnedDir(l.staging, 'staging');
  await fs.mkdir(l.stagingContent);
}

/** Update: park the current `local/` inside the owned backup folder. */
export async function backUpLocal(l: GameLayout, ctx: TxContext): Promise<void> {
  if (!(await isRealDir(l.local)) || (await lstatOrNull(l.backupContent))) return;
  await ensureOwned(l.backup, 'backup', ctx);
  await renameDurably(l.local, l.backupContent);
}

/** The staged tree becomes `local/` (one rename); done already when only `local/` is there. */
export async function promoteStaging(l: GameLayout): Promise<void> {
  const local = await lstatOrNull(l.local);
  if (!(await isRealDir(l.stagingContent))) {
    if (local?.isDirectory()) return;
    throw new LanspreadError(InstallErrorCode.Failed, `the staged install of "${l.id}" is gone; nothing to promote`);
  }
  if (local) throw new ReservedPathError(l.local);
  await renameDurably(l.stagingContent, l.local);
}

/**
 * The backup folder goes. A parked install is never deleted while `local/` is
 * missing: it returns to `local/` instead.
 */
async function dropBackup(l: GameLayout, ctx: TxContext): Promise<void> {
  if ((await dirState(l.backup)) === 'absent') return;
  if (await isRealDir(l.backupContent)) {
    const local = await lstatOrNull(l.local);
    if (!local) {
      await renameDurably(l.backupContent, l.local);
    } else if (!local.isDirectory()) {
      ctx.leftAlone(l.backup, 'holds the previous install and local/ is not a folder');
      return;
    }
  }
  await removeIfOurs(l.backup, ctx);
}

/** After a promotion: the staging and the backup go. */
export async function cleanUpInstall(l: GameLayout, ctx: TxContext): Promise<void> {
  await removeIfOurs(l.staging, ctx);
  await dropBackup(l, ctx);
}

/**
 * Back to the old state: the backup (if parked) returns to `local/`, staging and
 * backup go. A `local/` that appeared while the previous install was parked is
 * a conflict nothing can settle safely: it throws, and both stay.
 */
export async function rollBackInstall(l: GameLayout, ctx: TxContext): Promise<void> {
  if ((await lstatOrNull(l.local)) && (await isRealDir(l.backupContent))) throw new ReservedPathError(l.local);
  await dropBackup(l, ctx);
  await removeIfOurs(l.staging, ctx);
}

/**
 * Finish an install or update whose new tree is complete (phase after
 * extracting). Returns the state reached; 'old' when finishing was impossible
 * and it rolled back instead.
 */
export async function rollForwardInstall(l: GameLayout, kind: 'install' | 'update', phase: Phase, ctx: TxContext): Promise<'old' | 'new'> {
  const staged = await isRealDir(l.stagingContent);
  const local = await lstatOrNull(l.local);
  if (staged) {
    if (local) {
      // only in an update's backing-up phase can a `local/` beside the staged tree be the old install
      const canPark = kind === 'update' && phase === 'backing-up' && local.isDirectory() && !(await lstatOrNull(l.backupContent));
      if (!canPark) {
        await rollBackInstall(l, ctx);
        return 'old';
      }
      await backUpLocal(l, ctx);
    }
    await promoteStaging(l);
  } else if (!local?.isDirectory()) {
    await rollBackInstall(l, ctx);
    return 'old';
  }
  await cleanUpInstall(l, ctx);
  return 'new';
}

/** Uninstall: park `local/` inside the owned removal folder. */
/** Removes the game's folder if it is empty (one a rolled-back streamed install made); whether it did. */
export async function removeEmptyRoot(l: GameLayout): Promise<boolean> {
  try {
    await fs.rmdir(l.root);
  } catch (err) {
    if (isErrno(err, 'ENOTEMPTY', 'EEXIST', 'ENOENT')) return false;
    throw err;
  }
  await fsyncDir(l.gameDir);
  return true;
}

export async function parkLocalForRemoval(l: GameLayout, ctx: TxContext): Promise<void> {
  if (!(await isRealDir(l.local)) || (await lstatOrNull(l.removingContent))) return;
  await ensureOwned(l.removing, 'uninstall', ctx);
  await renameDurably(l.local, l.removingContent);
}

/** Finish an uninstall: park `local/` if it is still there (moving phase), then delete the removal folder. */
export async function rollForwardUninstall(l: GameLayout, phase: Phase, ctx: TxContext): Promise<'new'> {
  if (phase === 'moving') await parkLocalForRemoval(l, ctx);
  await removeIfOurs(l.removing, ctx);
  return 'new';
}

export async function rollBackUninstall(l: GameLayout, ctx: TxContext): Promise<'old'> {
  if (!(await lstatOrNull(l.local)) && (await isRealDir(l.removingContent))) await renameDurably(l.removingContent, l.local);
  await removeIfOurs(l.removing, ctx);
  return 'old';
}

/** Remove: checks of SPEC section 7, then park the whole game root in the owned trash folder. */
export async function checkRemovable(l: GameLayout): Promise<void> {
  await checkDownloaded(l);
  if (await isRealDir(l.local)) throw new LanspreadError(ErrorCode.Installed, `"${l.id}" is installed; uninstall it first`);
}

export async function parkRootForRemoval(l: GameLayout, ctx: TxContext): Promise<void> {
  if (await lstatOrNull(l.trashContent)) return;
  await checkRemovable(l);
  await ensureOwned(l.trash, 'remove', ctx);
  await renameDurably(l.root, l.trashContent);
}

/** Finish a removal; a root that fails the checks again is kept (state 'old'). */
export async function rollForwardRemove(l: GameLayout, phase: Phase, ctx: TxContext): Promise<'old' | 'new'> {
  if (phase === 'moving' && !(await lstatOrNull(l.trashContent)) && (await lstatOrNull(l.root))) {
    try {
      await parkRootForRemoval(l, ctx);
    } catch (err) {
      if (!(err instanceof LanspreadError) || err instanceof ReservedPathError) throw err;
      await rollBackRemove(l, ctx);
      return 'old';
    }
  }
  await removeIfOurs(l.trash, ctx);
  return 'new';
}

export async function rollBackRemove(l: GameLayout, ctx: TxContext): Promise<'old'> {
  if (!(await lstatOrNull(l.root)) && (await isRealDir(l.trashContent))) await renameDurably(l.trashContent, l.root);
  if ((await dirState(l.trash)) !== 'absent') await removeIfOurs(l.trash, ctx);
  return 'old';
}

/** The recovery rule: only an unfinished extraction rolls back; every later phase rolls forward. */
export async function settle(l: GameLayout, kind: IntentKind, phase: Phase, ctx: TxContext): Promise<'old' | 'new'> {
  switch (kind) {
    case 'install':
    case 'update':
      if (phase === 'extracting') {
        await rollBackInstall(l, ctx);
        return 'old';
      }
      return rollForwardInstall(l, kind, phase, ctx);
    case 'uninstall':
      return rollForwardUninstall(l, phase, ctx);
    case 'remove':
      return rollForwardRemove(l, phase, ctx);
  }
}

/**
 * Reserved folders of one game root with no intent behind them: an owned one
 * is the leftover of an interrupted operation and goes (a parked previous
 * install returns to `local/` first when `local/` is missing); anything else
 * at a reserved name is left alone and reported.
 */
export async function sweepOrphans(l: GameLayout, ctx: TxContext): Promise<string[]> {
  const removed: string[] = [];
  const noIntent: TxContext = { ...ctx, proven: false };
  for (const dir of [l.staging, l.backup, l.removing, l.trash]) {
    const state = await dirState(dir);
    if (state === 'absent') continue;
    if (state !== 'owned') {
      ctx.leftAlone(dir, state === 'not-a-folder' ? 'not a folder' : 'not made by Lanspread (no ownership marker)');
      continue;
    }
    if (dir === l.backup) await dropBackup(l, noIntent);
    else await removeIfOurs(dir, noIntent);
    removed.push(dir);
  }
  return removed;
}
