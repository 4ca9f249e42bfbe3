// Pure rules over the game list: what state a game is in, which actions make sense
// for it, how events patch the list, and how the filter selects from it. No DOM and
// no Svelte here, so the rules can be read (and tested) on their own.
import type { ActiveOperation, ErrorInfo, Game, Operation } from '../../../shared/api.js';
import type { PeerEventOf } from '../../../shared/events.js';

/**
 * Where a game is, as the card's `data-state` says it. installed: `local/` exists ·
 * downloaded: `version.ini` exists, not installed · available: not here, at least one
 * peer has it · missing: not here, and no peer has it.
 */
export type GameState = 'installed' | 'downloaded' | 'available' | 'missing';

export type GameAction = 'download' | 'stream' | 'update' | 'install' | 'uninstall' | 'remove' | 'cancel';

export function gameState(game: Game): GameState {
  if (game.installed) return 'installed';
  if (game.downloaded) return 'downloaded';
  return game.peers > 0 ? 'available' : 'missing';
}

/** A local copy exists and something newer has been seen (catalog or peers). */
export function hasUpdate(game: Game): boolean {
  return (game.downloaded || game.installed) && game.version !== null && game.latestVersion !== null && game.latestVersion !== game.version;
}

const CANCELLABLE: ReadonlySet<Operation['kind']> = new Set(['download', 'stream-install']);

export function gameActions(game: Game): GameAction[] {
  if (game.operation) return CANCELLABLE.has(game.operation.kind) ? ['cancel'] : [];
  const update: GameAction[] = hasUpdate(game) && game.peers > 0 ? ['update'] : [];
  if (game.installed) return [...update, 'uninstall'];
  if (game.downloaded) return [...update, 'install', 'remove'];
  return game.peers > 0 ? ['download', 'stream'] : [];
}

/** OperationsChanged lists every active operation: a game not in it has none. */
export function applyOperations(games: Game[], operations: ActiveOperation[]): Game[] {
  const byId = new Map(operations.map(({ id, ...operation }) => [id, operation]));
  return games.map((game) => {
    const operation = byId.get(game.id) ?? null;
    if (operation === null && game.operation === null) return game;
    return { ...game, operation };
  });
}

export function applyProgress(games: Game[], event: PeerEventOf<'DownloadGameFilesProgress'>): Game[] {
  return games.map((game) => {
    if (game.id !== event.id) return game;
    const base: Operation = game.operation ?? {
      kind: 'download',
      phase: 'downloading',
      bytesDone: 0,
      bytesTotal: 0,
      speed: 0,
      etaSeconds: null,
      peers: 0,
    };
    return {
      ...game,
      operation: {
        ...base,
        bytesDone: event.bytesDone,
        bytesTotal: event.bytesTotal,
        speed: event.speed,
        etaSeconds: event.etaSeconds,
        peers: event.peers,
      },
    };
  });
}

export function applyError(games: Game[], id: string, error: ErrorInfo): Game[] {
  return games.map((game) => (game.id === id ? { ...game, lastError: error } : game));
}

export interface LibraryFilter {
  /** matched against name, id and genre, case-insensitively */
  search: string;
  installedOnly: boolean;
  /** only games at least one peer has */
  onNetworkOnly: boolean;
}

export function filterGames(games: Game[], filter: LibraryFilter): Game[] {
  const needle = filter.search.trim().toLowerCase();
  return games.filter((game) => {
    if (filter.installedOnly && !game.installed) return false;
    if (filter.onNetworkOnly && game.peers === 0) return false;
    if (!needle) return true;
    return [game.name, game.id, game.genre ?? ''].some((text) => text.toLowerCase().includes(needle));
  });
}

export function sortGames(games: Game[]): Game[] {
  return [...games].sort((a, b) => a.name.localeCompare(b.name));
}
