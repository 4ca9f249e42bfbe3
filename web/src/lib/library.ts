// Pure rules over the game list: what state a game is in, which actions a card
// offers and why one cannot run now, how events patch the list, and how the filter
// and sort select from it. No DOM and no Svelte here, so the rules can be read (and
// tested) on their own.
import type { ActiveOperation, ErrorInfo, Game, Operation } from '../../../shared/api.js';
import type { PeerEventOf } from '../../../shared/events.js';

/**
 * Where a game is, as the card's `data-state` says it. installed: `local/` exists ·
 * downloaded: `version.ini` exists, not installed · available: not here, at least one
 * peer has it · missing: not here, and no peer has it.
 */
export type GameState = 'installed' | 'downloaded' | 'available' | 'missing';

export type GameAction = 'download' | 'stream' | 'update' | 'install' | 'uninstall' | 'remove' | 'cancel';

/** One button of a card: enabled, or disabled with the reason shown beside it. */
export interface ActionOption {
  action: GameAction;
  enabled: boolean;
  /** why it cannot run now; null when enabled */
  reason: string | null;
}

export interface ActionContext {
  /** the live connection to the node is up */
  online: boolean;
}

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

/** What an operation is doing, in a sentence's words ("Busy: downloading."). */
export const OPERATION_VERBS: Record<Operation['kind'], string> = {
  download: 'downloading',
  'stream-install': 'stream installing',
  install: 'installing',
  uninstall: 'uninstalling',
  remove: 'removing files',
};

/** The buttons a space shortfall disables: the step that does not fit, however it is asked for. */
const NEEDS_SPACE: Record<NonNullable<Game['noSpace']>['action'], readonly GameAction[]> = {
  download: ['download', 'stream'],
  install: ['install'],
};

/** "not enough … free" → "Not enough … free." */
function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;
}

export const OFFLINE_REASON = 'The node cannot be reached right now.';
export const NO_PEER_REASON = 'No peer has this game right now.';

/** The actions that fit the game's state, each enabled or disabled with its reason. */
export function gameActions(game: Game, context: ActionContext = { online: true }): ActionOption[] {
  const op = game.operation;
  const offered: GameAction[] = [];
  // A running transfer can only be cancelled; what the game offers otherwise comes back once it ends.
  // A queued one can only be taken out of the queue (Cancel) while it waits.
  if ((op && CANCELLABLE.has(op.kind)) || (!op && game.queued)) offered.push('cancel');
  else if (game.installed) offered.push(...(hasUpdate(game) ? (['update'] as const) : []), 'uninstall');
  else if (game.downloaded) offered.push(...(hasUpdate(game) ? (['update'] as const) : []), 'install', 'remove');
  // with no peer there is nothing to stream: one disabled Download says so
  else offered.push(...(game.peers > 0 ? (['download', 'stream'] as const) : (['download'] as const)));

  return offered.map((action) => {
    let reason: string | null = null;
    if (!context.online) reason = OFFLINE_REASON;
    else if (action === 'cancel') reason = null;
    else if (op) reason = `Busy: ${OPERATION_VERBS[op.kind]}.`;
    else if ((action === 'download' || action === 'stream' || action === 'update') && game.peers === 0) reason = NO_PEER_REASON;
    else if (game.noSpace && NEEDS_SPACE[game.noSpace.action].includes(action)) reason = sentence(game.noSpace.message);
    return { action, enabled: reason === null, reason };
  });
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

type ProgressEvent = PeerEventOf<'DownloadGameFilesProgress'> | PeerEventOf<'StreamInstallProgress'>;

export function applyProgress(games: Game[], event: ProgressEvent): Game[] {
  return games.map((game) => {
    if (game.id !== event.id) return game;
    const base: Operation = game.operation ?? {
      kind: event.type === 'StreamInstallProgress' ? 'stream-install' : 'download',
      phase: event.type === 'StreamInstallProgress' ? 'receiving' : 'downloading',
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

/** Which games the library shows, besides the search. */
export type LibraryView = 'all' | 'installed' | 'available' | 'updates';

export interface LibraryFilter {
  /** matched against name, id and genre, case-insensitively */
  search: string;
  /** all · installed · available (on a peer, not here yet) · updates (a newer version was seen) */
  view: LibraryView;
}

export function filterGames(games: Game[], filter: LibraryFilter): Game[] {
  const needle = filter.search.trim().toLowerCase();
  return games.filter((game) => {
    if (filter.view === 'installed' && !game.installed) return false;
    if (filter.view === 'available' && (game.installed || game.downloaded || game.peers === 0)) return false;
    if (filter.view === 'updates' && !hasUpdate(game)) return false;
    if (!needle) return true;
    return [game.name, game.id, game.genre ?? ''].some((text) => text.toLowerCase().includes(needle));
  });
}

export type SortKey = 'name' | 'state' | 'size' | 'peers';

/** installed first, then downloaded, on the network, missing */
const STATE_ORDER: Record<GameState, number> = { installed: 0, downloaded: 1, available: 2, missing: 3 };

/** Sorted by the key, ties by name; a game with an operation running comes first when sorting by state. */
export function sortGames(games: Game[], key: SortKey = 'name'): Game[] {
  const byName = (a: Game, b: Game) => a.name.localeCompare(b.name);
  const rank = (g: Game) => (g.operation ? -1 : STATE_ORDER[gameState(g)]);
  const compare: Record<SortKey, (a: Game, b: Game) => number> = {
    name: byName,
    state: (a, b) => rank(a) - rank(b) || byName(a, b),
    size: (a, b) => b.size - a.size || byName(a, b),
    peers: (a, b) => b.peers - a.peers || byName(a, b),
  };
  return [...games].sort(compare[key]);
}
