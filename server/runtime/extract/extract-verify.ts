// The last word on containment, checked after extraction on the disk itself:
// every path under the destination resolves (real path, not string prefix)
// inside it, and holds only plain folders and regular files with one link.
// Whatever the extractor did or missed, a tree that fails this is refused.
import { lstatSync, opendirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

/** True when `candidate` is `root` or lies below it. Both must be real, absolute paths. */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export interface TreeSummary {
  files: number;
  bytes: number;
  directories: number;
}

/** Walk `root` (a real path) and refuse anything that is not a contained file or folder. */
export function verifyTree(root: string): TreeSummary {
  const summary: TreeSummary = { files: 0, bytes: 0, directories: 0 };
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const real = realpathSync(dir);
    if (real !== dir || !isInside(root, real)) refuse(root, dir, 'resolves outside the install folder');
    const handle = opendirSync(dir);
    try {
      for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
        const full = path.join(dir, entry.name);
        const stat = lstatSync(full);
        if (stat.isDirectory()) {
          summary.directories++;
          pending.push(full);
        } else if (stat.isFile()) {
          if (stat.nlink !== 1) refuse(root, full, 'is a hard link');
          summary.files++;
          summary.bytes += stat.size;
        } else if (stat.isSymbolicLink()) {
          refuse(root, full, 'is a symbolic link');
        } else {
          refuse(root, full, 'is not a regular file or folder');
        }
      }
    } finally {
      handle.closeSync();
    }
  }
  return summary;
}

function refuse(root: string, full: string, why: string): never {
  const shown = path.relative(root, full) || '.';
  throw new ExtractError(ExtractErrorCode.UnsafeEntry, `extracted path "${shown}" ${why}`, { entry: shown });
}
