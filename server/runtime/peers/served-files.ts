// What a node lets its peers read: only catalog games that are downloaded
// (sentinel present), and only regular files inside their game root, reached
// without any symlink. `local/`, the owned dot-folders and temp sentinels are
// never served. Every check is made on each request against the file system,
// not on the scan, because the scan can be seconds old.
import fs from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import type { AnnouncedGame, WireFile } from '../../../shared/wire.js';
import { WireErrorCode } from '../../../shared/wire.js';
import { isGameId } from '../../../shared/game-id.js';
import type { Catalog } from '../library/catalog.js';
import type { GameIndexEntry } from '../library/scanner.js';
import { isReservedRootName } from '../library/scanner.js';
import type { LocalGame } from '../../../shared/events.js';
import { WireError } from './wire-error.js';
import type { ChunkHashCache } from '../content/chunk-hash-cache.js';

export interface LibraryView {
  readonly dir: string;
  games(): LocalGame[];
  get(id: string): LocalGame | undefined;
  entry(id: string): GameIndexEntry | undefined;
}

/**
 * Split a peer-supplied relative path into segments, or refuse it: absolute
 * paths, backslashes, NUL, empty, `.` and `..` segments, and reserved names at
 * the root of the game root.
 */
export function validateRelativePath(rel: string): string[] {
  if (rel.length === 0 || rel.length > 4096) throw new WireError(WireErrorCode.NotServed, 'path is empty or too long');
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) throw new WireError(WireErrorCode.NotServed, 'absolute paths are not served');
  if (rel.includes('\\') || rel.includes('\0')) throw new WireError(WireErrorCode.NotServed, 'path has a backslash or NUL');
  const segments = rel.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw new WireError(WireErrorCode.NotServed, 'path has an empty, "." or ".." segment');
  }
  if (isReservedRootName(segments[0] as string)) throw new WireError(WireErrorCode.NotServed, `"${segments[0]}" is never served`);
  return segments;
}

export interface OpenedFile {
  handle: fs.FileHandle;
  size: number;
}

export class ServedFiles {
  constructor(
    private readonly catalog: Catalog,
    private readonly library: LibraryView,
    private readonly hashes: ChunkHashCache,
  ) {}

  /** The catalog games this node has, downloaded or installed. */
  announced(): AnnouncedGame[] {
    return this.library
      .games()
      .filter((g) => this.catalog.has(g.id) && (g.downloaded || g.installed))
      .map((g) => ({
        id: g.id,
        name: this.catalog.get(g.id)?.name ?? g.id,
        size: g.size,
        eti_version: g.version,
        downloaded: g.downloaded,
        installed: g.installed,
      }));
  }

  /** The payload of a served game, as the last scan saw it, with every chunk's hash. */
  async files(id: string): Promise<{ eti_version: string | null; files: WireFile[] }> {
    const game = this.servedGame(id);
    const entry = this.library.entry(id);
    const root = path.join(this.library.dir, id);
    const dirs = Object.keys(entry?.dirs ?? {})
      .filter((d) => d !== '')
      .sort()
      .map((d) => ({ path: d, size: 0, is_dir: true }));
    const files: WireFile[] = [];
    for (const f of entry?.files ?? []) {
      const sha256 = await this.hashes.hashes(id, root, f);
      files.push({ path: f.path, size: f.size, is_dir: false, chunk_size: this.hashes.chunkSizeFor(f.size), sha256 });
    }
    return { eti_version: game.version, files: [...dirs, ...files] };
  }

  /** Open a served file for reading, refusing anything outside the rules above. */
  async open(id: string, rel: string): Promise<OpenedFile> {
    this.servedGame(id);
    const root = path.join(this.library.dir, id);
    return openInRoot(root, rel, async (realRoot) => {
      // The sentinel is checked now, not as of the last scan.
      const sentinel = await fs.lstat(path.join(realRoot, 'version.ini')).catch(() => null);
      if (!sentinel?.isFile()) throw new WireError(WireErrorCode.NotServed, `game "${id}" is not downloaded here`);
    });
  }

  /** A catalog game this node has downloaded, as the library knows it (its entry changes with every rescan), or null. */
  downloadedEntry(id: string): GameIndexEntry | null {
    if (!isGameId(id) || !this.catalog.has(id) || !this.library.get(id)?.downloaded) return null;
    return this.library.entry(id) ?? null;
  }

  private servedGame(id: string): LocalGame {
    if (!isGameId(id) || !this.catalog.has(id)) throw new WireError(WireErrorCode.NotServed, `"${id}" is not a catalog game`);
    const game = this.library.get(id);
    if (!game?.downloaded) throw new WireError(WireErrorCode.NotServed, `game "${id}" is not downloaded here`);
    return game;
  }
}

/**
 * Open `rel` under `root` for reading: a regular file, reached without any
 * symlink, never a reserved name (local/, dot-folders). `check` runs on the
 * root's real path first (the sentinel check of a downloaded game).
 */
export async function openInRoot(root: string, rel: string, check?: (realRoot: string) => Promise<void>): Promise<OpenedFile> {
  const segments = validateRelativePath(rel);
  const realRoot = await fs.realpath(root).catch(() => {
    throw new WireError(WireErrorCode.NotFound, `game "${path.basename(root)}" is not here`);
  });
  await check?.(realRoot);
  const target = path.join(realRoot, ...segments);
  // No symlink anywhere on the way: the real path must be the path itself.
  const real = await fs.realpath(target).catch(() => {
    throw new WireError(WireErrorCode.NotFound, `no file "${rel}" in "${path.basename(root)}"`);
  });
  if (real !== target) throw new WireError(WireErrorCode.NotServed, 'paths through symlinks are not served');
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(target, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch {
    throw new WireError(WireErrorCode.NotServed, `"${rel}" cannot be opened`);
  }
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    throw new WireError(WireErrorCode.NotServed, `"${rel}" is not a regular file`);
  }
  return { handle, size: st.size };
}
