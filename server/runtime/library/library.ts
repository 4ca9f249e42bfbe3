// The local library: which catalog games are in the game dir, downloaded or
// installed. Kept current by the watcher (per-game rescans, batched), a fallback
// full scan every few minutes, and explicit rescans. While an operation holds a
// game its rescans wait, and run once when the last hold is released, so a
// half-written game is never reported.
import fs from 'node:fs/promises';
import type { LocalGame } from '../../../shared/events.js';
import { isGameId } from '../../../shared/game-id.js';
import { FULL_RESCAN_INTERVAL_MS, GAME_DIR_MISSING_POLL_MS, RESCAN_DEBOUNCE_MS, SCAN_CONCURRENCY } from '../constants.js';
import type { Logger } from '../logger.js';
import type { Catalog } from './catalog.js';
import { LibraryIndex } from './library-index.js';
import { scanGameRoot, type GameIndexEntry } from './scanner.js';
import { GameDirWatcher } from './watcher.js';

export interface LibraryOptions {
  gameDir: string;
  stateDir: string;
  catalog: Catalog;
  logger: Logger;
  /** called after any scan that changed what the library holds */
  onChange: (games: LocalGame[]) => void;
  fullRescanIntervalMs?: number;
  debounceMs?: number;
  missingPollMs?: number;
  /** watch the file system (off in some unit tests) */
  watch?: boolean;
}

export class Library {
  private gameDir: string;
  private entries = new Map<string, GameIndexEntry>();
  private readonly index: LibraryIndex;
  private watcher: GameDirWatcher | undefined;
  private readonly holds = new Map<string, number>();
  private readonly heldBack = new Set<string>();
  private readonly debounce = new Map<string, NodeJS.Timeout>();
  private fullTimer: NodeJS.Timeout | undefined;
  private missingTimer: NodeJS.Timeout | undefined;
  private gameDirPresent = true;
  /** the index on disk lags behind `entries` */
  private indexDirty = false;
  private running = false;
  /** scans run one at a time so results are applied in order */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: LibraryOptions) {
    this.gameDir = opts.gameDir;
    this.index = new LibraryIndex(opts.stateDir, opts.logger);
  }

  get dir(): string {
    return this.gameDir;
  }

  async start(): Promise<void> {
    this.running = true;
    this.entries = await this.index.load(this.gameDir);
    await this.fullScan();
    await this.startWatching();
    this.fullTimer = setInterval(() => void this.fullScan(), this.opts.fullRescanIntervalMs ?? FULL_RESCAN_INTERVAL_MS);
    this.fullTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.fullTimer);
    clearInterval(this.missingTimer);
    this.missingTimer = undefined;
    for (const t of this.debounce.values()) clearTimeout(t);
    this.debounce.clear();
    await this.watcher?.stop();
    this.watcher = undefined;
    await this.queue.catch(() => undefined);
  }

  /** Point the library at another game dir: rescans everything there. */
  async setGameDir(gameDir: string): Promise<void> {
    await this.watcher?.stop();
    this.watcher = undefined;
    this.gameDir = gameDir;
    this.entries = await this.index.load(gameDir);
    await this.fullScan();
    await this.startWatching();
  }

  games(): LocalGame[] {
    return [...this.entries.values()].map((e) => e.game).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  get(id: string): LocalGame | undefined {
    return this.entries.get(id)?.game;
  }

  /** The scan entry (payload files) of one game. */
  entry(id: string): GameIndexEntry | undefined {
    return this.entries.get(id);
  }

  /**
   * Hold back rescans of `id` until the returned release is called (once per
   * hold); then one rescan runs.
   */
  hold(id: string): () => Promise<void> {
    this.holds.set(id, (this.holds.get(id) ?? 0) + 1);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const n = (this.holds.get(id) ?? 1) - 1;
      if (n > 0) {
        this.holds.set(id, n);
        return;
      }
      this.holds.delete(id);
      this.heldBack.delete(id);
      await this.rescanGame(id);
    };
  }

  isHeld(id: string): boolean {
    return this.holds.has(id);
  }

  /** Rescan one game now (unless held: then it runs when released). */
  rescanGame(id: string): Promise<void> {
    if (this.holds.has(id)) {
      this.heldBack.add(id);
      return Promise.resolve();
    }
    return this.enqueue(async () => {
      const changed = await this.scanOne(id, false);
      if (changed) await this.changed();
    });
  }

  /** Scan every catalog game; entries of held games are left as they are. */
  fullScan(): Promise<void> {
    return this.enqueue(async () => {
      const present = await this.checkGameDir();
      let changed = false;
      if (!present) {
        changed = this.entries.size > 0;
        this.entries.clear();
      } else {
        const ids = await this.listCandidateIds();
        for (const id of this.entries.keys()) {
          if (!ids.has(id) && !this.holds.has(id)) {
            this.entries.delete(id);
            changed = true;
          }
        }
        const todo = [...ids].filter((id) => !this.holds.has(id));
        const results = await mapLimit(todo, SCAN_CONCURRENCY, (id) => this.scanOne(id, true));
        if (results.some(Boolean)) changed = true;
      }
      if (changed) await this.changed();
      else if (this.indexDirty) await this.saveIndex();
    });
  }

  private async scanOne(id: string, trustDirMtimes: boolean): Promise<boolean> {
    const previous = this.entries.get(id);
    const next = await scanGameRoot(this.gameDir, id, previous, { trustDirMtimes, logger: this.opts.logger });
    if (next === null) {
      if (!previous) return false;
      this.entries.delete(id);
      return true;
    }
    this.entries.set(id, next);
    if (next.files !== previous?.files) this.indexDirty = true;
    return !previous || !sameGame(previous.game, next.game) || previous.files.length !== next.files.length;
  }

  private async listCandidateIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    try {
      for (const name of await fs.readdir(this.gameDir)) {
        if (isGameId(name) && this.opts.catalog.has(name)) ids.add(name);
      }
    } catch (err) {
      this.opts.logger.warn({ gameDir: this.gameDir, err: (err as Error).message }, 'cannot list game dir');
    }
    return ids;
  }

  /** Notice the game dir going away and coming back, and rewatch it when it does. */
  private async checkGameDir(): Promise<boolean> {
    const present = await fs.stat(this.gameDir).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (present === this.gameDirPresent) return present;
    this.gameDirPresent = present;
    if (!present) {
      this.opts.logger.warn({ gameDir: this.gameDir }, 'game dir is gone; waiting for it to come back');
      void this.watcher?.stop();
      this.watcher = undefined;
      this.missingTimer = setInterval(() => void this.fullScan(), this.opts.missingPollMs ?? GAME_DIR_MISSING_POLL_MS);
      this.missingTimer.unref();
    } else {
      this.opts.logger.info({ gameDir: this.gameDir }, 'game dir is back');
      clearInterval(this.missingTimer);
      this.missingTimer = undefined;
      if (this.running && !this.watcher) void this.startWatching();
    }
    return present;
  }

  private async startWatching(): Promise<void> {
    if (this.opts.watch === false || !this.running || !this.gameDirPresent) return;
    const watcher = new GameDirWatcher(
      this.gameDir,
      (id) => isGameId(id) && this.opts.catalog.has(id),
      {
        onGameChange: (id) => this.scheduleRescan(id),
        onGameDirChange: () => void this.fullScan(),
      },
      this.opts.logger,
    );
    this.watcher = watcher;
    try {
      await watcher.start();
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'cannot watch game dir; relying on periodic scans');
    }
  }

  private scheduleRescan(id: string): void {
    clearTimeout(this.debounce.get(id));
    const timer = setTimeout(() => {
      this.debounce.delete(id);
      void this.rescanGame(id);
    }, this.opts.debounceMs ?? RESCAN_DEBOUNCE_MS);
    this.debounce.set(id, timer);
  }

  private async changed(): Promise<void> {
    this.opts.onChange(this.games());
    await this.saveIndex();
  }

  private async saveIndex(): Promise<void> {
    try {
      this.indexDirty = false;
      await this.index.save(this.gameDir, this.entries);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'cannot save library index');
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch((err: unknown) => {
      this.opts.logger.error({ err: (err as Error).message }, 'library scan failed');
    });
    return run;
  }
}

/** Run `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function sameGame(a: LocalGame, b: LocalGame): boolean {
  return a.downloaded === b.downloaded && a.installed === b.installed && a.version === b.version && a.size === b.size;
}
