// The sentinel transaction of a download (SPEC section 5): the old
// `version.ini` is parked before any payload changes, so a game is never
// "downloaded" while its files are in flux, and the new one is committed last
// (temp file, fsync, rename, fsync the folder), so "downloaded" always means
// every byte is there.
import fs from 'node:fs/promises';
import path from 'node:path';
import { SENTINEL_FILE } from '../constants.js';
import { fsyncDir, writeFileAtomic } from '../fs-util.js';

export const SENTINEL_TMP = '.version.ini.tmp';
export const SENTINEL_DISCARDED = '.version.ini.discarded';

/** Move an existing `version.ini` aside (`.version.ini.discarded`). */
export async function parkSentinel(root: string): Promise<void> {
  const sentinel = path.join(root, SENTINEL_FILE);
  const st = await fs.lstat(sentinel).catch(() => null);
  if (!st) return;
  await fs.rm(path.join(root, SENTINEL_DISCARDED), { force: true, recursive: true });
  await fs.rename(sentinel, path.join(root, SENTINEL_DISCARDED));
  await fsyncDir(root);
}

/** Write `version.ini` last: `.version.ini.tmp`, fsync, rename, fsync the folder. */
export async function commitSentinel(root: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path.join(root, SENTINEL_FILE), bytes, { tmpName: SENTINEL_TMP });
  await fs.rm(path.join(root, SENTINEL_DISCARDED), { force: true });
}

/** After a failure or cancel: the temp and parked sentinels go; the old one is not restored. */
export async function sweepSentinels(root: string): Promise<void> {
  await fs.rm(path.join(root, SENTINEL_TMP), { force: true });
  await fs.rm(path.join(root, SENTINEL_DISCARDED), { force: true });
}
