// What a game installed by a streamed install came from: the sender's
// `eti_version`, kept in `<state dir>/games/<id>/streamed_version.json` beside
// the install intent, written atomically once the streamed tree has become
// `local/`. Such a game has no archive and no `version.ini`: it is installed,
// never "downloaded"; this record only says which version its `local/` holds.
// The record is dropped when `local/` goes (uninstall) or is replaced by an
// install from a downloaded archive, whose `version.ini` then speaks for it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isGameId } from '../../../shared/game-id.js';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';

export const STREAMED_VERSION_FILE = 'streamed_version.json';

interface Record_ {
  id: string;
  version: string;
  installedAt: string;
}

const file = (stateDir: string, id: string): string => path.join(stateDir, 'games', id, STREAMED_VERSION_FILE);

export class StreamedVersions {
  private readonly versions = new Map<string, string>();

  constructor(private readonly stateDir: string) {}

  /** Read every record (a damaged one is ignored: the version is then unknown, as before). */
  async load(): Promise<void> {
    const ids = await fs.readdir(path.join(this.stateDir, 'games')).catch(() => [] as string[]);
    for (const id of ids) {
      if (!isGameId(id)) continue;
      const r = (await readJsonFile(file(this.stateDir, id)).catch(() => undefined)) as Partial<Record_> | undefined;
      if (r && r.id === id && typeof r.version === 'string' && r.version.length <= 64) this.versions.set(id, r.version);
    }
  }

  get(id: string): string | null {
    return this.versions.get(id) ?? null;
  }

  async set(id: string, version: string): Promise<void> {
    const record: Record_ = { id, version, installedAt: new Date().toISOString() };
    await fs.mkdir(path.dirname(file(this.stateDir, id)), { recursive: true });
    await writeFileAtomic(file(this.stateDir, id), `${JSON.stringify(record)}\n`);
    this.versions.set(id, version);
  }

  async clear(id: string): Promise<void> {
    this.versions.delete(id);
    await fs.rm(file(this.stateDir, id), { force: true });
  }
}
