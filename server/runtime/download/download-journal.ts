// Marks a download in progress (`<state dir>/games/<id>/download.json`), so that
// after a restart the node resumes it. The chunks themselves need no journal:
// on resume every chunk already on disk is checked against its hash.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isGameId } from '../../../shared/game-id.js';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';

export interface DownloadJournal {
  id: string;
  version: string;
  /** install once downloaded (the original request's choice, kept for the resume) */
  install: boolean;
  startedAt: string;
}

const file = (stateDir: string, id: string) => path.join(stateDir, 'games', id, 'download.json');

export async function writeJournal(stateDir: string, journal: DownloadJournal): Promise<void> {
  await fs.mkdir(path.dirname(file(stateDir, journal.id)), { recursive: true });
  await writeFileAtomic(file(stateDir, journal.id), JSON.stringify(journal));
}

export async function clearJournal(stateDir: string, id: string): Promise<void> {
  await fs.rm(file(stateDir, id), { force: true });
}

export async function readJournals(stateDir: string): Promise<DownloadJournal[]> {
  const out: DownloadJournal[] = [];
  const ids = await fs.readdir(path.join(stateDir, 'games')).catch(() => [] as string[]);
  for (const id of ids) {
    if (!isGameId(id)) continue;
    const j = (await readJsonFile(file(stateDir, id)).catch(() => undefined)) as DownloadJournal | undefined;
    if (j && j.id === id && typeof j.version === 'string') out.push(j);
  }
  return out;
}
