// The crash table shared by the recovery unit test (test/unit/install/recovery.test.ts)
// and the kill scenario (test/scenarios/install-kill.test.ts): what a crash at each
// checkpoint of each install transaction leaves on disk, and which tree recovery
// must bring back. Paths name the game 'G'; `footprint` lists what is there the same way.
import path from 'node:path';
import type { Checkpoint } from '../../server/runtime/install/install-checkpoints.js';
import type { IntentKind } from '../../server/runtime/install/intent-journal.js';
import { exists } from './temp-dir.js';

/** The recovery rule: an unfinished extraction rolls back, everything later rolls forward. */
export const recoveryOutcome = (kind: IntentKind, cp: Checkpoint): 'old' | 'new' =>
  cp.startsWith('extracting') && (kind === 'install' || kind === 'update') ? 'old' : 'new';

/** What a crash at each checkpoint leaves on disk ('G' is the game's id): proves the node really stopped there. */
export const AT_CRASH: Record<IntentKind, Record<string, string[]>> = {
  install: {
    extracting: ['G'],
    'extracting:mid': ['G', 'G/.local.installing', 'G/.local.installing/local'],
    'extracting:done': ['G', 'G/.local.installing', 'G/.local.installing/local'],
    promoting: ['G', 'G/.local.installing', 'G/.local.installing/local'],
    'promoting:done': ['G', 'G/local', 'G/.local.installing'],
    cleaning: ['G', 'G/local', 'G/.local.installing'],
    'cleaning:done': ['G', 'G/local'],
  },
  update: {
    extracting: ['G', 'G/local'],
    'extracting:mid': ['G', 'G/local', 'G/.local.installing', 'G/.local.installing/local'],
    'extracting:done': ['G', 'G/local', 'G/.local.installing', 'G/.local.installing/local'],
    'backing-up': ['G', 'G/local', 'G/.local.installing', 'G/.local.installing/local'],
    'backing-up:done': ['G', 'G/.local.installing', 'G/.local.installing/local', 'G/.local.backup', 'G/.local.backup/local'],
    promoting: ['G', 'G/.local.installing', 'G/.local.installing/local', 'G/.local.backup', 'G/.local.backup/local'],
    'promoting:done': ['G', 'G/local', 'G/.local.installing', 'G/.local.backup', 'G/.local.backup/local'],
    cleaning: ['G', 'G/local', 'G/.local.installing', 'G/.local.backup', 'G/.local.backup/local'],
    'cleaning:done': ['G', 'G/local'],
  },
  uninstall: {
    moving: ['G', 'G/local'],
    'moving:done': ['G', 'G/.local.removing', 'G/.local.removing/local'],
    deleting: ['G', 'G/.local.removing', 'G/.local.removing/local'],
    'deleting:done': ['G'],
  },
  remove: {
    moving: ['G'],
    'moving:done': ['.lanspread-removing-G', '.lanspread-removing-G/G'],
    deleting: ['.lanspread-removing-G', '.lanspread-removing-G/G'],
    'deleting:done': [],
  },
};

/** Which of the transaction's paths exist in `games` for game `id`, named with 'G' like AT_CRASH. */
export async function footprint(games: string, id: string): Promise<string[]> {
  const names = [
    'G',
    'G/local',
    'G/.local.installing',
    'G/.local.installing/local',
    'G/.local.backup',
    'G/.local.backup/local',
    'G/.local.removing',
    'G/.local.removing/local',
    '.lanspread-removing-G',
    '.lanspread-removing-G/G',
  ];
  const out: string[] = [];
  for (const n of names) if (await exists(path.join(games, n.replaceAll('G', id)))) out.push(n);
  return out;
}
