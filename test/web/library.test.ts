// The dashboard's pure library rules: which state and actions a card shows, and how
// operation events patch the list. The browser test cannot reach these without peers.
import { describe, expect, it } from 'vitest';
import type { Game } from '../../shared/api.js';
import { HISTORY_KEPT, mergeHistory } from '../../web/src/lib/history.js';
import type { HistoryEntry } from '../../shared/api.js';
import {
  NO_PEER_REASON,
  OFFLINE_REASON,
  applyOperations,
  applyProgress,
  filterGames,
  gameActions,
  gameState,
  hasUpdate,
  sortGames,
  type SortKey,
} from '../../web/src/lib/library.js';

const game = (over: Partial<Game> = {}): Game => ({
  id: 'alpha',
  name: 'Alpha',
  description: '',
  size: 1,
  downloaded: false,
  installed: false,
  version: null,
  peers: 0,
  latestVersion: '2',
  operation: null,
  lastError: null,
  queued: null,
  noSpace: null,
  ...over,
});

const download = { kind: 'download', phase: 'downloading', bytesDone: 1, bytesTotal: 4, speed: 1, etaSeconds: 3, peers: 1 } as const;

describe('game state and actions', () => {
  it('names where a game is', () => {
    expect(gameState(game())).toBe('missing');
    expect(gameState(game({ peers: 2 }))).toBe('available');
    expect(gameState(game({ downloaded: true, version: '2' }))).toBe('downloaded');
    expect(gameState(game({ downloaded: true, installed: true, version: '2' }))).toBe('installed');
  });

  /** "action" for an enabled one, "action: reason" for a disabled one */
  const offered = (g: Game, online = true) => gameActions(g, { online }).map((o) => (o.enabled ? o.action : `${o.action}: ${o.reason}`));

  it('offers the actions that fit the state, and says why one cannot run', () => {
    expect(offered(game())).toEqual([`download: ${NO_PEER_REASON}`]);
    expect(offered(game({ peers: 1 }))).toEqual(['download', 'stream']);
    expect(offered(game({ downloaded: true, version: '2' }))).toEqual(['install', 'remove']);
    expect(offered(game({ downloaded: true, installed: true, version: '2' }))).toEqual(['uninstall']);
  });

  it('while a transfer runs, offers only Cancel; while another operation runs, holds the actions back', () => {
    expect(offered(game({ peers: 1, operation: download }))).toEqual(['cancel']);
    expect(offered(game({ downloaded: true, version: '2', operation: { ...download, kind: 'install' } }))).toEqual([
      'install: Busy: installing.',
      'remove: Busy: installing.',
    ]);
  });

  it('a step that does not fit on the disk is disabled with the reason, both figures named', () => {
    const message = 'not enough free space to download "alpha": it needs 96.0 MiB, the disk has 48.0 MiB free';
    const tooBig = { action: 'download', neededBytes: 96 * 2 ** 20, freeBytes: 48 * 2 ** 20, message } as const;
    const reason = 'Not enough free space to download "alpha": it needs 96.0 MiB, the disk has 48.0 MiB free.';
    expect(offered(game({ peers: 1, noSpace: tooBig }))).toEqual([`download: ${reason}`, `stream: ${reason}`]);
    const install = { ...tooBig, action: 'install', message: message.replace('download', 'install') } as const;
    expect(offered(game({ downloaded: true, version: '2', noSpace: install }))).toEqual([
      `install: ${reason.replace('download', 'install')}`,
      'remove',
    ]);
  });

  it('offline, nothing can run', () => {
    expect(offered(game({ peers: 1, operation: download }), false)).toEqual([`cancel: ${OFFLINE_REASON}`]);
    expect(offered(game({ downloaded: true, version: '2' }), false)).toEqual([`install: ${OFFLINE_REASON}`, `remove: ${OFFLINE_REASON}`]);
  });

  it('offers an update when a newer version exists, enabled while a peer is there', () => {
    const old = game({ downloaded: true, installed: true, version: '1', latestVersion: '2' });
    expect(hasUpdate(old)).toBe(true);
    expect(offered(old)).toEqual([`update: ${NO_PEER_REASON}`, 'uninstall']);
    expect(offered({ ...old, peers: 1 })).toEqual(['update', 'uninstall']);
    expect(hasUpdate({ ...old, version: '2' })).toBe(false);
  });
});

describe('operation events', () => {
  it('OperationsChanged sets the listed operations and clears the others', () => {
    const games = [game({ id: 'a', operation: download }), game({ id: 'b' })];
    const next = applyOperations(games, [{ id: 'b', ...download, bytesDone: 3 }]);
    expect(next.map((g) => g.operation?.bytesDone ?? null)).toEqual([null, 3]);
  });

  it('progress updates only its own game', () => {
    const games = [game({ id: 'a', operation: download }), game({ id: 'b' })];
    const next = applyProgress(games, {
      type: 'DownloadGameFilesProgress',
      id: 'a',
      bytesDone: 2,
      bytesTotal: 4,
      speed: 9,
      etaSeconds: 1,
      peers: 2,
    });
    expect(next[0]?.operation).toMatchObject({ kind: 'download', bytesDone: 2, speed: 9, peers: 2 });
    expect(next[1]).toBe(games[1]);
  });
});

describe('filter', () => {
  const games = [
    game({ id: 'a', name: 'Alien Swarm', genre: 'Shooter', installed: true }),
    game({ id: 'b', name: 'Bravo', peers: 1 }),
    game({ id: 'c', name: 'Charlie' }),
    game({ id: 'd', name: 'Delta', downloaded: true, version: '1', latestVersion: '2' }),
  ];
  const ids = (filter: Parameters<typeof filterGames>[1]) => filterGames(games, filter).map((g) => g.id);

  it('matches name, id and genre case-insensitively, and the views', () => {
    expect(ids({ search: 'SWARM', view: 'all' })).toEqual(['a']);
    expect(ids({ search: 'shooter', view: 'all' })).toEqual(['a']);
    expect(ids({ search: '', view: 'installed' })).toEqual(['a']);
    expect(ids({ search: '', view: 'available' })).toEqual(['b']);
    expect(ids({ search: '', view: 'updates' })).toEqual(['d']);
    expect(ids({ search: 'bra', view: 'available' })).toEqual(['b']);
  });
});

describe('sort', () => {
  const games = [
    game({ id: 'c', name: 'Charlie', size: 5 }),
    game({ id: 'b', name: 'Bravo', peers: 3, size: 1 }),
    game({ id: 'a', name: 'Alpha', installed: true, downloaded: true, version: '2', size: 9 }),
    game({ id: 'd', name: 'Delta', peers: 1, operation: download, size: 2 }),
  ];
  const order = (key: SortKey) => sortGames(games, key).map((g) => g.id);

  it('by name, state (running first), size and peers', () => {
    expect(order('name')).toEqual(['a', 'b', 'c', 'd']);
    expect(order('state')).toEqual(['d', 'a', 'b', 'c']);
    expect(order('size')).toEqual(['a', 'c', 'd', 'b']);
    expect(order('peers')).toEqual(['b', 'd', 'a', 'c']);
  });
});

describe('history', () => {
  const entry = (seq: number): HistoryEntry => ({
    seq,
    id: 'a',
    kind: 'download',
    outcome: 'ok',
    bytes: 1,
    durationMs: 1,
    endedAt: '2026-12-01T00:00:00.000Z',
    error: null,
  });

  it('merges the snapshot and the events: each entry once, newest first, at most what the node keeps', () => {
    expect(mergeHistory([entry(3), entry(1)], [entry(2), entry(3)]).map((e) => e.seq)).toEqual([3, 2, 1]);
    const many = Array.from({ length: HISTORY_KEPT + 5 }, (_, i) => entry(i + 1));
    const merged = mergeHistory([], many);
    expect(merged).toHaveLength(HISTORY_KEPT);
    expect(merged[0]?.seq).toBe(HISTORY_KEPT + 5);
  });
});

describe('a queued game', () => {
  it('offers only Cancel, which takes it out of the queue', () => {
    const queued = game({ peers: 1, queued: { position: 2, kind: 'download' } });
    expect(gameActions(queued).map((o) => [o.action, o.enabled])).toEqual([['cancel', true]]);
    expect(gameActions({ ...queued, queued: null }).map((o) => o.action)).toEqual(['download', 'stream']);
  });
});
