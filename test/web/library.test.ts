// The dashboard's pure library rules: which state and actions a card shows, and how
// operation events patch the list. The browser test cannot reach these without peers.
import { describe, expect, it } from 'vitest';
import type { Game } from '../../shared/api.js';
import { applyOperations, applyProgress, filterGames, gameActions, gameState, hasUpdate } from '../../web/src/lib/library.js';

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

  it('offers the actions that fit the state', () => {
    expect(gameActions(game())).toEqual([]);
    expect(gameActions(game({ peers: 1 }))).toEqual(['download', 'stream']);
    expect(gameActions(game({ downloaded: true, version: '2' }))).toEqual(['install', 'remove']);
    expect(gameActions(game({ downloaded: true, installed: true, version: '2' }))).toEqual(['uninstall']);
    expect(gameActions(game({ peers: 1, operation: download }))).toEqual(['cancel']);
    expect(gameActions(game({ downloaded: true, version: '2', operation: { ...download, kind: 'install' } }))).toEqual([]);
  });

  it('offers an update only when a newer version exists and a peer is there', () => {
    const old = game({ downloaded: true, installed: true, version: '1', latestVersion: '2' });
    expect(hasUpdate(old)).toBe(true);
    expect(gameActions(old)).toEqual(['uninstall']);
    expect(gameActions({ ...old, peers: 1 })).toEqual(['update', 'uninstall']);
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
  ];
  const ids = (filter: Parameters<typeof filterGames>[1]) => filterGames(games, filter).map((g) => g.id);

  it('matches name, id and genre case-insensitively, and the toggles', () => {
    expect(ids({ search: 'SWARM', installedOnly: false, onNetworkOnly: false })).toEqual(['a']);
    expect(ids({ search: 'shooter', installedOnly: false, onNetworkOnly: false })).toEqual(['a']);
    expect(ids({ search: '', installedOnly: true, onNetworkOnly: false })).toEqual(['a']);
    expect(ids({ search: '', installedOnly: false, onNetworkOnly: true })).toEqual(['b']);
  });
});
