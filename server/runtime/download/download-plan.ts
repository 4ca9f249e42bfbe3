// Planning a download: every target file opened at its final size (never
// through a symlink, never truncated), and the list of chunks still to fetch.
// A chunk already on disk with the right hash (an interrupted download, or the
// unchanged parts of an update) is kept and not planned. `version.ini` is
// never opened on disk: it is held in memory until the commit.
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '../../../shared/error-codes.js';
import { SENTINEL_FILE } from '../constants.js';
import { chunkCount, hashFileChunks } from '../content/chunks.js';
import { Bitfield } from '../swarm/bitfield.js';
import { ManifestLayout } from '../swarm/manifest.js';
import type { ValidatedGame } from '../transfer/validate.js';
import { DownloadFailedError } from './download-errors.js';
import type { Chunk } from './scheduler.js';

export interface OpenFile {
  path: string;
  handle: fs.FileHandle | null;
  /** version.ini lands here instead of on disk */
  memory: Buffer | null;
}

export interface DownloadPlan {
  /** one per file of the validated game, in its order */
  files: OpenFile[];
  /** chunks still to fetch, `index` in order */
  chunks: Chunk[];
  /** chunks kept from disk */
  reused: number;
  /** bytes of the kept chunks */
  bytesReused: number;
  /** the manifest's chunk numbering */
  layout: ManifestLayout;
  /** the kept chunks, by manifest number (what the node announces to the swarm at once) */
  have: Bitfield;
}

/**
 * Open every target under `root` and list the chunks to fetch. On failure the
 * files opened so far are closed (by the caller, through `files`).
 */
export async function planDownload(root: string, game: ValidatedGame, signal: AbortSignal, files: OpenFile[] = []): Promise<DownloadPlan> {
  for (const dir of game.dirs) await fs.mkdir(path.join(root, dir), { recursive: true });
  const chunks: Chunk[] = [];
  const layout = new ManifestLayout(game.files);
  const haveBits = new Bitfield(layout.chunks);
  let reused = 0;
  let bytesReused = 0;
  for (const [fileIndex, f] of game.files.entries()) {
    const open = await openTarget(root, f.path, f.size);
    files.push(open);
    const have =
      open.handle && open.existed
        ? await verifiedChunks(path.join(root, f.path), f.size, f.chunkSize, f.sha256, signal)
        : new Set<number>();
    for (let c = 0; c < chunkCount(f.size, f.chunkSize); c++) {
      const offset = c * f.chunkSize;
      const length = Math.min(f.chunkSize, f.size - offset);
      const global = layout.indexOf(fileIndex, offset);
      if (have.has(c)) {
        reused++;
        bytesReused += length;
        haveBits.set(global);
        continue;
      }
      chunks.push({ index: chunks.length, fileIndex, offset, length, sha256: f.sha256[c]!, peers: f.peers, global });
    }
  }
  return { files, chunks, reused, bytesReused, layout, have: haveBits };
}

async function openTarget(root: string, rel: string, size: number): Promise<OpenFile & { existed: boolean }> {
  if (rel === SENTINEL_FILE) return { path: rel, handle: null, memory: Buffer.alloc(size), existed: false };
  const file = path.join(root, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const before = await fs.lstat(file).catch(() => null);
  if (before && !before.isFile()) throw new DownloadFailedError(ErrorCode.BadTarget, `"${rel}" exists and is not a regular file`);
  // O_NOFOLLOW: never write through a symlink; no O_TRUNC: chunks are written in place.
  const handle = await fs.open(file, fsc.O_RDWR | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o644);
  const st = await handle.stat();
  if (st.size !== size) await handle.truncate(size); // sparse when growing
  return { path: rel, handle, memory: null, existed: before !== null && before.size > 0 };
}

async function verifiedChunks(
  file: string,
  size: number,
  chunkSize: number,
  expected: string[],
  signal: AbortSignal,
): Promise<Set<number>> {
  const actual = await hashFileChunks(file, size, chunkSize, signal);
  const ok = new Set<number>();
  actual.forEach((h, i) => {
    if (h === expected[i]) ok.add(i);
  });
  return ok;
}

export async function closeAll(files: OpenFile[]): Promise<void> {
  for (const f of files) {
    const h = f.handle;
    f.handle = null;
    await h?.close().catch(() => undefined);
  }
}
