// The small on-disk memory of the last scan (`<state dir>/library-index.json`),
// so that a full rescan of a large, unchanged library stats folders instead of
// walking every file. It is only a cache: a missing, stale or corrupt index
// costs one slow scan, never a wrong answer, because every entry is checked
// against folder and sentinel mtimes before it is trusted.
import path from 'node:path';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';
import type { Logger } from '../logger.js';
import type { GameIndexEntry } from './scanner.js';

const FORMAT = 1;

interface IndexFile {
  format: number;
  gameDir: string;
  games: Record<string, GameIndexEntry>;
}

export class LibraryIndex {
  private readonly file: string;

  constructor(
    stateDir: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(stateDir, 'library-index.json');
  }

  /** Entries for `gameDir`, or none when the index is missing, corrupt or for another folder. */
  async load(gameDir: string): Promise<Map<string, GameIndexEntry>> {
    try {
      const json = (await readJsonFile(this.file)) as IndexFile | undefined;
      if (!json || json.format !== FORMAT || json.gameDir !== gameDir || typeof json.games !== 'object') return new Map();
      return new Map(Object.entries(json.games));
    } catch (err) {
      this.logger.warn({ file: this.file, err: (err as Error).message }, 'library index unreadable; rescanning everything');
      return new Map();
    }
  }

  async save(gameDir: string, entries: ReadonlyMap<string, GameIndexEntry>): Promise<void> {
    const body: IndexFile = { format: FORMAT, gameDir, games: Object.fromEntries(entries) };
    await writeFileAtomic(this.file, JSON.stringify(body));
  }
}
