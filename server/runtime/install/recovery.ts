// Startup recovery (SPEC section 7): every game is brought to a consistent
// state — its old install or its new one, never a mix — from the intents in
// the state dir and the folders in the game dir. An intent's operation is
// settled by the rule in transactions.ts (an unfinished extraction rolls back,
// every later phase rolls forward); then every game root is swept for owned
// leftovers with no intent behind them. Whatever sits at a reserved name
// without proof that Lanspread made it is left alone and logged.
import fs from 'node:fs/promises';
import type { ErrorInfo } from '../../../shared/api.js';
import { isGameId } from '../../../shared/game-id.js';
import { toErrorInfo } from '../errors.js';
import type { Logger } from '../logger.js';
import { clearIntent, listIntentIds, readIntent, type IntentKind, type Phase } from './intent-journal.js';
import { gameLayout, removeEmptyRoot, settle, sweepOrphans, TRASH_PREFIX, type GameLayout, type TxContext } from './transactions.js';

export interface RecoveredGame {
  id: string;
  kind: IntentKind;
  phase: Phase;
  /** the state the game was brought to; 'failed' keeps the intent for the next attempt */
  outcome: 'old' | 'new' | 'failed';
  error?: ErrorInfo;
}

export interface RecoveryReport {
  /** games that had an intent */
  games: RecoveredGame[];
  /** owned folders removed (or restored) with no intent behind them */
  orphans: string[];
  /** reserved names holding something Lanspread cannot prove it made */
  leftAlone: { path: string; why: string }[];
}

export interface RecoveryOptions {
  stateDir: string;
  /** the game dir to sweep for leftovers (intents carry their own) */
  gameDir: string;
  logger: Logger;
}

function context(report: RecoveryReport, logger: Logger, proven: boolean): TxContext {
  return {
    proven,
    leftAlone: (where, why) => {
      report.leftAlone.push({ path: where, why });
      logger.warn({ path: where, why }, 'reserved folder left alone');
    },
  };
}

/** Settle one game's intent, if it has one; a corrupt intent is dropped (the sweep's marker rules still apply). */
async function settleIntent(stateDir: string, id: string, report: RecoveryReport, logger: Logger): Promise<RecoveredGame | null> {
  const read = await readIntent(stateDir, id);
  if (read === null) return null;
  if ('corrupt' in read) {
    logger.warn({ id, why: read.corrupt }, 'install intent unreadable; dropped');
    await clearIntent(stateDir, id);
    return null;
  }
  const { intent } = read;
  const layout = gameLayout(intent.gameDir, id);
  let game: RecoveredGame;
  try {
    const outcome = await settle(layout, intent.kind, intent.phase, context(report, logger, true));
    if (outcome === 'old' && intent.createdRoot) await removeCreatedRoot(layout, id, logger);
    await clearIntent(stateDir, id);
    game = { id, kind: intent.kind, phase: intent.phase, outcome };
    logger.info({ id, kind: intent.kind, phase: intent.phase, outcome, root: layout.root }, 'recovered an interrupted operation');
  } catch (err) {
    game = { id, kind: intent.kind, phase: intent.phase, outcome: 'failed', error: toErrorInfo(err) };
    logger.error({ id, kind: intent.kind, phase: intent.phase, err: (err as Error).message }, 'recovery failed; the intent is kept');
  }
  report.games.push(game);
  return game;
}

/** The interrupted operation had made the game's folder: back to before means without it, if nothing else is in it. */
async function removeCreatedRoot(layout: GameLayout, id: string, logger: Logger): Promise<void> {
  try {
    if (await removeEmptyRoot(layout))
      logger.info({ id, root: layout.root }, 'removed the empty game folder the interrupted operation created');
  } catch (err) {
    logger.warn({ id, root: layout.root, err: (err as Error).message }, 'cannot remove the game folder');
  }
}

async function sweepGame(gameDir: string, id: string, report: RecoveryReport, logger: Logger): Promise<void> {
  const handled = await sweepOrphans(gameLayout(gameDir, id), context(report, logger, false));
  for (const where of handled) logger.info({ id, path: where }, 'removed a leftover of an interrupted operation');
  report.orphans.push(...handled);
}

/** Ids in the game dir that may have reserved folders: game roots and removal folders. */
async function idsInGameDir(gameDir: string, logger: Logger): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(gameDir, { withFileTypes: true });
  } catch (err) {
    logger.warn({ gameDir, err: (err as Error).message }, 'cannot list the game dir for recovery');
    return [];
  }
  const ids = new Set<string>();
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const id = e.name.startsWith(TRASH_PREFIX) ? e.name.slice(TRASH_PREFIX.length) : e.name;
    if (isGameId(id)) ids.add(id);
  }
  return [...ids].sort();
}

/** Recover every game: intents first, then leftovers in `gameDir`. Never throws for one game's trouble. */
export async function recoverAll(opts: RecoveryOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = { games: [], orphans: [], leftAlone: [] };
  const failed = new Set<string>();
  for (const id of await listIntentIds(opts.stateDir)) {
    const game = await settleIntent(opts.stateDir, id, report, opts.logger);
    if (game?.outcome === 'failed') failed.add(id);
  }
  for (const id of await idsInGameDir(opts.gameDir, opts.logger)) {
    if (failed.has(id)) continue; // its intent still owns what is there
    try {
      await sweepGame(opts.gameDir, id, report, opts.logger);
    } catch (err) {
      opts.logger.error({ id, err: (err as Error).message }, 'cannot sweep the game folder');
    }
  }
  return report;
}

/** Recover one game before a new operation on it (the operation already holds the game). */
export async function recoverGame(opts: RecoveryOptions & { id: string }): Promise<RecoveryReport> {
  const report: RecoveryReport = { games: [], orphans: [], leftAlone: [] };
  const game = await settleIntent(opts.stateDir, opts.id, report, opts.logger);
  if (game?.outcome !== 'failed') await sweepGame(opts.gameDir, opts.id, report, opts.logger);
  return report;
}
