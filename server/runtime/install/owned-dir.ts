// Folders Lanspread makes for its transactions (staging, backup, removal) and
// how it proves it made them. Invariant: an owned folder gets its marker file
// `.lanspread_owned` right after mkdir, before anything else is put in it, and
// loses the marker only after everything else in it is gone. So a reserved
// folder that holds anything besides the marker either carries a valid marker
// or was not made by Lanspread, and is then never deleted.
//
// Content moves into an owned folder as a child (`<owned>/local`), never as the
// folder itself, so the marker never mixes with a game's own files.
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, isErrno, writeFileAtomic } from '../fs-util.js';

export const OWNED_MARKER = '.lanspread_owned';

/** First line of every marker; a file named so with other content proves nothing. */
const MARKER_MAGIC = 'lanspread-owned v1';
const MAX_MARKER_BYTES = 4096;

/** Leftovers of an interrupted marker write (writeFileAtomic's temp file). */
function isMarkerTemp(name: string): boolean {
  return name.startsWith(`.${OWNED_MARKER}.`) && name.endsWith('.tmp');
}

export type DirState =
  /** nothing at that path */
  | 'absent'
  /** a real folder holding a valid marker */
  | 'owned'
  /** a real folder with no valid marker that holds nothing but marker leftovers (or nothing) */
  | 'unmarked-empty'
  /** a real folder with other content and no valid marker: not ours */
  | 'foreign'
  /** a file, a symlink or anything else that is not a real folder */
  | 'not-a-folder';

export async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
    throw err;
  }
}

export async function isRealDir(p: string): Promise<boolean> {
  return (await lstatOrNull(p))?.isDirectory() ?? false;
}

async function hasValidMarker(dir: string): Promise<boolean> {
  const marker = path.join(dir, OWNED_MARKER);
  const st = await lstatOrNull(marker);
  if (!st?.isFile() || st.size > MAX_MARKER_BYTES) return false;
  const text = await fs.readFile(marker, 'utf8').catch(() => '');
  return text.startsWith(`${MARKER_MAGIC}\n`);
}

/** What sits at `dir`, as far as ownership goes. */
export async function dirState(dir: string): Promise<DirState> {
  const st = await lstatOrNull(dir);
  if (!st) return 'absent';
  if (!st.isDirectory()) return 'not-a-folder';
  if (await hasValidMarker(dir)) return 'owned';
  const names = await fs.readdir(dir);
  return names.every((n) => n === OWNED_MARKER || isMarkerTemp(n)) ? 'unmarked-empty' : 'foreign';
}

/**
 * Make `dir` (its parent must exist; fails with EEXIST when something is there)
 * and mark it owned before anything else goes in.
 */
export async function createOwnedDir(dir: string, purpose: string): Promise<void> {
  await fs.mkdir(dir);
  const body = JSON.stringify({ purpose, createdAt: new Date().toISOString(), pid: process.pid });
  await writeFileAtomic(path.join(dir, OWNED_MARKER), `${MARKER_MAGIC}\n${body}\n`);
  await fsyncDir(path.dirname(dir));
}

/**
 * Delete an owned folder: its content first, the marker last, then the folder,
 * so an interruption never leaves content behind without the marker.
 * `provenEmpty` also allows an unmarked folder that holds only marker leftovers
 * (an intent proves Lanspread made it). Anything else is refused: returns false.
 */
export async function removeOwnedDir(dir: string, opts: { allowUnmarkedEmpty?: boolean } = {}): Promise<boolean> {
  const state = await dirState(dir);
  if (state === 'absent') return true;
  if (state !== 'owned' && !(state === 'unmarked-empty' && opts.allowUnmarkedEmpty)) return false;
  for (const name of await fs.readdir(dir)) {
    if (name === OWNED_MARKER) continue;
    await fs.rm(path.join(dir, name), { recursive: true, force: true });
  }
  await fs.rm(path.join(dir, OWNED_MARKER), { force: true });
  await fs.rmdir(dir);
  await fsyncDir(path.dirname(dir));
  return true;
}

/**
 * fsync every file and folder under `dir` (no links are followed), so that a
 * power cut after the next rename cannot promote a tree whose data is not on disk.
 */
export async function fsyncTree(dir: string, concurrency = 8): Promise<void> {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = async (d: string): Promise<void> => {
    dirs.push(d);
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile()) files.push(p);
    }
  };
  await walk(dir);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++] as string;
      const handle = await fs.open(file, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  for (const d of dirs.reverse()) await fsyncDir(d);
}
