// Decides, for one game root, exactly what SPEC section 1 says: downloaded when a
// regular file `version.ini` is at its root, installed when `local/` is a
// directory. It also lists the payload (everything outside `local/` and the
// owned dot-folders), which is what the node may serve. A previous index entry
// lets an unchanged game skip the walk: every folder's mtime is remembered, and
// a folder whose mtime has not moved has the same entries.
import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { LocalGame } from '../../../shared/events.js';
import { INSTALL_DIR, MAX_VERSION_INI_BYTES, SENTINEL_FILE } from '../constants.js';
import { isErrno } from '../fs-util.js';
import type { Logger } from '../logger.js';

export interface PayloadFile {
  /** relative, `/`-separated */
  path: string;
  size: number;
  mtimeMs: number;
}

/** What the index remembers of one game root. */
export interface GameIndexEntry {
  game: LocalGame;
  sentinel: { size: number; mtimeMs: number } | null;
  /** relative folder path ('' is the root) → mtimeMs when it was listed */
  dirs: Record<string, number>;
  files: PayloadFile[];
}

/** Names at the root of a game root that are never payload. */
export function isReservedRootName(name: string): boolean {
  return name === INSTALL_DIR || name.startsWith('.local.') || name.startsWith('.version.ini.') || name === '.lanspread_owned';
}

export interface ScanOptions {
  /** reuse `previous` when no folder mtime moved (full scans); per-game rescans stat everything */
  trustDirMtimes: boolean;
  logger: Logger;
}

/**
 * Scan `<gameDir>/<id>`. Returns null when there is no game root (absent, not a
 * directory, or unreadable).
 */
export async function scanGameRoot(
  gameDir: string,
  id: string,
  previous: GameIndexEntry | undefined,
  opts: ScanOptions,
): Promise<GameIndexEntry | null> {
  const root = path.join(gameDir, id);
  const rootStat = await statOrNull(root, opts.logger);
  if (!rootStat?.isDirectory()) return null;

  const [sentinelStat, localStat] = await Promise.all([
    lstatOrNull(path.join(root, SENTINEL_FILE), opts.logger),
    lstatOrNull(path.join(root, INSTALL_DIR), opts.logger),
  ]);
  const sentinel = sentinelStat?.isFile() ? { size: sentinelStat.size, mtimeMs: sentinelStat.mtimeMs } : null;
  const installed = localStat?.isDirectory() ?? false;

  if (previous && opts.trustDirMtimes && sameSentinel(previous.sentinel, sentinel) && (await dirsUnchanged(root, previous.dirs))) {
    const game = { ...previous.game, installed };
    return { ...previous, game };
  }

  const version = sentinel ? await readVersion(path.join(root, SENTINEL_FILE), opts.logger) : null;
  const dirs: Record<string, number> = {};
  const files: PayloadFile[] = [];
  await walk(root, '', dirs, files, opts.logger);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const size = files.reduce((sum, f) => sum + f.size, 0);
  return {
    game: { id, downloaded: sentinel !== null, installed, version, size },
    sentinel,
    dirs,
    files,
  };
}

function sameSentinel(a: GameIndexEntry['sentinel'], b: GameIndexEntry['sentinel']): boolean {
  if (a === null || b === null) return a === b;
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function dirsUnchanged(root: string, dirs: Record<string, number>): Promise<boolean> {
  const rels = Object.keys(dirs);
  if (rels.length === 0) return false;
  for (const rel of rels) {
    try {
      const st = await fs.lstat(path.join(root, rel));
      if (!st.isDirectory() || st.mtimeMs !== dirs[rel]) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function walk(root: string, rel: string, dirs: Record<string, number>, files: PayloadFile[], logger: Logger): Promise<void> {
  const abs = rel ? path.join(root, rel) : root;
  let entries;
  try {
    const st = await fs.lstat(abs);
    dirs[rel] = st.mtimeMs;
    entries = await fs.readdir(abs, { withFileTypes: true });
  } catch (err) {
    logger.warn({ dir: abs, err: (err as Error).message }, 'cannot list folder; its files are left out');
    return;
  }
  for (const entry of entries) {
    if (rel === '' && isReservedRootName(entry.name)) continue;
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      await walk(root, childRel, dirs, files, logger);
    } else if (entry.isFile()) {
      const st = await lstatOrNull(path.join(root, childRel), logger);
      if (st?.isFile()) files.push({ path: childRel, size: st.size, mtimeMs: st.mtimeMs });
    }
    // symlinks, sockets, devices: never payload, never followed
  }
}

async function readVersion(file: string, logger: Logger): Promise<string | null> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
    const buf = Buffer.alloc(MAX_VERSION_INI_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').trim();
    return text === '' ? null : (text.split(/\r?\n/)[0] ?? '').trim();
  } catch (err) {
    logger.warn({ file, err: (err as Error).message }, 'cannot read version.ini');
    return null;
  } finally {
    await handle?.close();
  }
}

async function statOrNull(p: string, logger: Logger): Promise<Stats | null> {
  return statWith(fs.stat, p, logger);
}

async function lstatOrNull(p: string, logger: Logger): Promise<Stats | null> {
  return statWith(fs.lstat, p, logger);
}

async function statWith(fn: (p: string) => Promise<Stats>, p: string, logger: Logger): Promise<Stats | null> {
  try {
    return await fn(p);
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR')) logger.warn({ path: p, err: (err as Error).message }, 'cannot stat');
    return null;
  }
}
