// The install intent journal: `<state dir>/games/<id>/install_intent.json`
// names the operation under way on a game and its phase. It is written
// atomically (temp file, fsync, rename, fsync the folder) BEFORE each phase
// changes the file system, and cleared only after the operation's last change,
// so after a crash it tells startup recovery where the operation stood.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isGameId } from '../../../shared/game-id.js';
import { fsyncDir, isErrno, readJsonFile, writeFileAtomic } from '../fs-util.js';

/** The transaction kinds; `install` and `update` are both the API's `install` operation. */
export type IntentKind = 'install' | 'update' | 'uninstall' | 'remove';

/** Phases of each kind, in order; each is entered by writing the intent first. */
export const PHASES = {
  install: ['extracting', 'promoting', 'cleaning'],
  update: ['extracting', 'backing-up', 'promoting', 'cleaning'],
  uninstall: ['moving', 'deleting'],
  remove: ['moving', 'deleting'],
} as const satisfies Record<IntentKind, readonly string[]>;

export type Phase<K extends IntentKind = IntentKind> = (typeof PHASES)[K][number];

export interface InstallIntent {
  version: 1;
  id: string;
  kind: IntentKind;
  phase: Phase;
  /** the game dir the operation works in (the setting may change later) */
  gameDir: string;
  startedAt: string;
  /** the operation made the game's folder itself (a streamed install): rolling back removes it again if empty */
  createdRoot?: true;
}

export const INTENT_FILE = 'install_intent.json';

export function intentPath(stateDir: string, id: string): string {
  return path.join(stateDir, 'games', id, INTENT_FILE);
}

export async function writeIntent(stateDir: string, intent: InstallIntent): Promise<void> {
  const file = intentPath(stateDir, intent.id);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(intent)}\n`);
}

export async function clearIntent(stateDir: string, id: string): Promise<void> {
  const file = intentPath(stateDir, id);
  try {
    await fs.rm(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

export function isIntent(value: unknown, id?: string): value is InstallIntent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<InstallIntent>;
  if (v.version !== 1 || !isGameId(v.id) || (id !== undefined && v.id !== id)) return false;
  if (typeof v.gameDir !== 'string' || !path.isAbsolute(v.gameDir) || typeof v.startedAt !== 'string') return false;
  if (v.createdRoot !== undefined && v.createdRoot !== true) return false;
  const phases = PHASES[v.kind as IntentKind] as readonly string[] | undefined;
  return phases !== undefined && typeof v.phase === 'string' && phases.includes(v.phase);
}

export type ReadIntent = { intent: InstallIntent } | { corrupt: string } | null;

/** The intent of one game: null when there is none, `corrupt` when it cannot be trusted. */
export async function readIntent(stateDir: string, id: string): Promise<ReadIntent> {
  let value: unknown;
  try {
    value = await readJsonFile(intentPath(stateDir, id));
  } catch (err) {
    return { corrupt: (err as Error).message };
  }
  if (value === undefined) return null;
  return isIntent(value, id) ? { intent: value } : { corrupt: 'not a valid install intent' };
}

/** Ids of every game that has an intent file (valid or not). */
export async function listIntentIds(stateDir: string): Promise<string[]> {
  const names = await fs.readdir(path.join(stateDir, 'games')).catch(() => [] as string[]);
  const ids: string[] = [];
  for (const id of names.sort()) {
    if (isGameId(id) && (await fs.lstat(intentPath(stateDir, id)).catch(() => null))) ids.push(id);
  }
  return ids;
}
