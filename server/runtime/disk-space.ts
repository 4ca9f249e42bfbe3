// Free space, checked before work starts (SPEC section 7): a download needs
// the bytes it still has to write, an install the extracted size, on the file
// system that will hold them. A refusal is a NotEnoughSpaceError naming both
// figures; running out anyway (another program filled the disk) is a
// DiskFullError. How free space is measured is injected (`DiskSpace`), so
// tests can make a small disk without one; the node uses statfs.
import fs from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../../shared/bytes.js';
import { ErrorCode } from '../../shared/error-codes.js';
import { LanspreadError } from './errors.js';
import { isErrno } from './fs-util.js';

/** Measures the free space of the file system holding a folder. */
export interface DiskSpace {
  /** bytes an unprivileged process may still write there */
  free(dir: string): Promise<number>;
}

export const statfsSpace: DiskSpace = {
  async free(dir) {
    const st = await fs.statfs(await nearestExisting(dir));
    return st.bavail * st.bsize;
  },
};

/** The work needs `needed` bytes and `free` are free; the message names both. */
export class NotEnoughSpaceError extends LanspreadError {
  constructor(
    what: string,
    readonly neededBytes: number,
    readonly freeBytes: number,
  ) {
    super(ErrorCode.NotEnoughSpace, notEnoughSpaceMessage(what, neededBytes, freeBytes));
  }
}

/** The disk filled up while writing (ENOSPC or EDQUOT). */
export class DiskFullError extends LanspreadError {
  constructor(what: string, cause: unknown) {
    super(ErrorCode.DiskFull, `the disk filled up while ${what}; free some space and try again`, { cause });
  }
}

export function notEnoughSpaceMessage(what: string, needed: number, free: number): string {
  return `not enough free space to ${what}: it needs ${formatBytes(needed)}, the disk has ${formatBytes(free)} free`;
}

/** Refuse with NotEnoughSpaceError unless `needed` bytes fit on the file system of `dir`. */
export async function requireSpace(space: DiskSpace, dir: string, needed: number, what: string): Promise<void> {
  if (needed <= 0) return;
  const free = await space.free(dir);
  if (needed > free) throw new NotEnoughSpaceError(what, needed, free);
}

export function isDiskFull(err: unknown): boolean {
  return isErrno(err, 'ENOSPC', 'EDQUOT');
}

/**
 * Bytes still to be written to give each file (relative to `root`) its full
 * size: a file already there (an interrupted download, a sparse file created
 * at its final size, an old version written over in place) counts with the
 * blocks it already has on disk.
 */
export async function bytesToWrite(root: string, files: { path: string; size: number }[]): Promise<number> {
  let total = 0;
  for (const f of files) {
    const st = await fs.lstat(path.join(root, f.path)).catch(() => null);
    const allocated = st?.isFile() ? Math.min(f.size, st.blocks * 512) : 0;
    total += Math.max(0, f.size - allocated);
  }
  return total;
}

/** `dir`, or the closest parent that exists (a game root may not be made yet). */
async function nearestExisting(dir: string): Promise<string> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (
      await fs.stat(d).then(
        () => true,
        () => false,
      )
    )
      return d;
    if (path.dirname(d) === d) return d;
  }
}
