// Watches the game dir and each game root, not recursively (chokidar depth 1
// from the game dir), and reports which game a change belongs to. Folders that
// are not catalog game roots are not watched at all.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../logger.js';

export interface GameDirWatcherEvents {
  /** something changed in or under `<gameDir>/<id>` (direct children only) */
  onGameChange(id: string): void;
  /** the game dir itself changed (removed, replaced) or the watcher failed */
  onGameDirChange(): void;
}

export class GameDirWatcher {
  private watcher: FSWatcher | undefined;

  constructor(
    private readonly gameDir: string,
    private readonly isWatchedId: (id: string) => boolean,
    private readonly events: GameDirWatcherEvents,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the initial folder listing is done, so no later change is missed. */
  async start(): Promise<void> {
    const watcher = watch(this.gameDir, {
      depth: 1,
      ignoreInitial: true,
      followSymlinks: false,
      ignorePermissionErrors: true,
      ignored: (p: string) => {
        const id = this.idOf(p);
        return id !== null && id !== '' && !this.isWatchedId(id);
      },
    });
    this.watcher = watcher;
    watcher.on('all', (_event, p) => this.route(p));
    watcher.on('error', (err) => {
      this.logger.warn({ err: (err as Error).message }, 'watcher error');
      this.events.onGameDirChange();
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close();
  }

  private route(p: string): void {
    const id = this.idOf(p);
    if (id === null) return;
    if (id === '') this.events.onGameDirChange();
    else if (this.isWatchedId(id)) this.events.onGameChange(id);
  }

  /** '' for the game dir itself, the first path segment below it, null outside it. */
  private idOf(p: string): string | null {
    const rel = path.relative(this.gameDir, p);
    if (rel === '') return '';
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    return rel.split(path.sep)[0] ?? null;
  }
}
