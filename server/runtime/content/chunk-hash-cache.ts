// The serving side hashes each chunk of a game's files once and remembers the
// result (`<state dir>/games/<id>/chunk-hashes.json`), keyed by the file's size
// and mtime, so a changed file is hashed again and an unchanged one never is.
// Concurrent requests for the same file share one hashing pass.
import path from 'node:path';
import fs from 'node:fs/promises';
import type { PayloadFile } from '../library/scanner.js';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';
import type { Logger } from '../logger.js';
import { chunkSizeFor, hashFileChunks } from './chunks.js';

interface CachedFile {
  size: number;
  mtimeMs: number;
  chunkSize: number;
  sha256: string[];
}

interface CacheFile {
  files: Record<string, CachedFile>;
}

export class ChunkHashCache {
  private readonly games = new Map<string, Promise<CacheFile>>();
  private readonly inFlight = new Map<string, Promise<string[]>>();

  constructor(
    private readonly stateDir: string,
    /** a fixed chunk size (tests), or null for the size each file's length calls for */
    private readonly fixedChunkSize: number | null,
    private readonly logger: Logger,
  ) {}

  /** The chunk size `size` bytes are hashed with. */
  chunkSizeFor(size: number): number {
    return this.fixedChunkSize ?? chunkSizeFor(size);
  }

  /** Hashes of every chunk of `file` in game `id` whose root is `root`. */
  async hashes(id: string, root: string, file: PayloadFile): Promise<string[]> {
    const cache = await this.load(id);
    const chunkSize = this.chunkSizeFor(file.size);
    const cached = cache.files[file.path];
    if (cached && cached.size === file.size && cached.mtimeMs === file.mtimeMs && cached.chunkSize === chunkSize) return cached.sha256;
    const key = `${id}\0${file.path}\0${file.size}\0${file.mtimeMs}\0${chunkSize}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = (async () => {
        const sha256 = await hashFileChunks(path.join(root, file.path), file.size, chunkSize);
        // only trust the result if the file did not change while it was read
        const st = await fs.lstat(path.join(root, file.path));
        if (st.size === file.size && st.mtimeMs === file.mtimeMs) {
          cache.files[file.path] = { size: file.size, mtimeMs: file.mtimeMs, chunkSize, sha256 };
          await this.save(id, cache);
        }
        return sha256;
      })().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private load(id: string): Promise<CacheFile> {
    let loading = this.games.get(id);
    if (!loading) {
      loading = readJsonFile(this.file(id))
        .then((json) => {
          const c = json as CacheFile | undefined;
          return c && typeof c.files === 'object' && c.files !== null ? c : { files: {} };
        })
        .catch(() => ({ files: {} }));
      this.games.set(id, loading);
    }
    return loading;
  }

  private async save(id: string, cache: CacheFile): Promise<void> {
    try {
      await fs.mkdir(path.dirname(this.file(id)), { recursive: true });
      await writeFileAtomic(this.file(id), JSON.stringify(cache));
    } catch (err) {
      this.logger.warn({ id, err: (err as Error).message }, 'cannot save chunk hashes');
    }
  }

  private file(id: string): string {
    return path.join(this.stateDir, 'games', id, 'chunk-hashes.json');
  }
}
