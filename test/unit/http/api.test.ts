import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Game, GameDetail } from '../../../shared/api.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';
import { startTestApp } from '../../helpers/runtime.js';

describe('API', () => {
  it('GET /api/health names the node', async () => {
    const { app, runtime } = await startTestApp();
    const res = await app.inject('/api/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, peerId: runtime.peerId, name: 'test-node', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(runtime.peerId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('GET /api/games gives one object per catalog game with the local state', async () => {
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha', { version: '20240301', installed: true });
    await makeGame(gameDir, 'bravo', { version: '20231201' });
    const { app } = await startTestApp({ gameDir });
    const games = (await app.inject('/api/games')).json() as Game[];
    expect(games.map((g) => g.id)).toEqual(['alpha', 'bravo', 'charlie']);
    const [alpha, bravo, charlie] = games;
    expect(alpha).toMatchObject({
      downloaded: true,
      installed: true,
      version: '20240301',
      latestVersion: '20240301',
      peers: 0,
      operation: null,
      lastError: null,
    });
    expect(bravo).toMatchObject({
      downloaded: true,
      installed: false,
      version: '20231201',
      latestVersion: '20240101',
      genre: 'Racing',
      maxPlayers: 8,
    });
    expect(charlie).toMatchObject({ downloaded: false, installed: false, version: null, latestVersion: '20240101' });
    expect(Object.keys(charlie!).sort()).toEqual(
      [
        'description',
        'downloaded',
        'id',
        'installed',
        'lastError',
        'latestVersion',
        'name',
        'noSpace',
        'operation',
        'peers',
        'queued',
        'size',
        'version',
      ].sort(),
    );
  });

  it('GET /api/games/:id adds sources and files; bad ids are 400, unknown ones 404', async () => {
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha', { version: '1', files: { 'alpha.eti': 'x'.repeat(10) } });
    const { app } = await startTestApp({ gameDir });
    const detail = (await app.inject('/api/games/alpha')).json() as GameDetail;
    expect(detail.files).toEqual([
      { path: 'alpha.eti', size: 10, isDir: false },
      { path: 'version.ini', size: 2, isDir: false },
    ]);
    expect(detail.sources).toEqual([]);
    const bad = await app.inject('/api/games/..%2Fetc');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: 'invalid_game_id', message: expect.stringContaining('not a valid game id') } });
    const unknown = await app.inject('/api/games/zulu');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('unknown_game');
    const nowhere = await app.inject('/api/nowhere');
    expect(nowhere.statusCode).toBe(404);
    expect(nowhere.json().error.code).toBe('not_found');
  });

  it('state-changing calls refuse bad ids and bodies with 4xx, never 500', async () => {
    const { app } = await startTestApp();
    expect((await app.inject({ method: 'POST', url: '/api/games/UPPER/install' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/games/zulu/install' })).statusCode).toBe(404);
    const badBody = await app.inject({ method: 'POST', url: '/api/games/alpha/download', payload: { stream: 'yes' } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().error.code).toBe('bad_request');
    const notJson = await app.inject({
      method: 'PUT',
      url: '/api/settings',
      headers: { 'content-type': 'application/json' },
      payload: '{oops',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error).toBeDefined();
  });

  it('GET/PUT /api/settings validates the game dir and rescans a new one', async () => {
    const { app, gameDir } = await startTestApp();
    expect((await app.inject('/api/settings')).json()).toEqual({
      gameDir,
      name: 'test-node',
      uploadLimit: 0,
      downloadLimit: 0,
      maxActiveTransfers: 1,
      freeBytes: expect.any(Number),
    });
    const missing = await app.inject({ method: 'PUT', url: '/api/settings', payload: { gameDir: '/does/not/exist' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toEqual({ code: 'invalid_settings', message: 'game dir /does/not/exist does not exist' });
    const file = path.join(gameDir, 'a-file');
    await fs.writeFile(file, '');
    const notDir = await app.inject({ method: 'PUT', url: '/api/settings', payload: { gameDir: file } });
    expect(notDir.json().error.message).toMatch(/is not a directory/);
    expect((await app.inject({ method: 'PUT', url: '/api/settings', payload: { uploadLimit: -1 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PUT', url: '/api/settings', payload: { colour: 'red' } })).statusCode).toBe(400);

    const other = await tempDir();
    await makeGame(other, 'charlie', { version: '20240101' });
    const ok = await app.inject({ method: 'PUT', url: '/api/settings', payload: { gameDir: other, downloadLimit: 1000 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ gameDir: other, downloadLimit: 1000 });
    const games = (await app.inject('/api/games')).json() as Game[];
    expect(games.find((g) => g.id === 'charlie')?.downloaded).toBe(true);
  });

  it('settings survive a restart of the runtime', async () => {
    const stateDir = await tempDir();
    const first = await startTestApp({ stateDir });
    await first.app.inject({ method: 'PUT', url: '/api/settings', payload: { name: 'renamed', uploadLimit: 5 } });
    const saved = JSON.parse(await fs.readFile(path.join(stateDir, 'settings.json'), 'utf8'));
    expect(saved).toMatchObject({ name: 'renamed', uploadLimit: 5 });
  });

  it('serves its OpenAPI description', async () => {
    const { app } = await startTestApp();
    const doc = (await app.inject('/api/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/health', '/api/games', '/api/games/{id}', '/api/settings', '/api/games/{id}/download']),
    );
  });

  it('pushes library changes over the WebSocket, starting with a snapshot', async () => {
    const { app, gameDir } = await startTestApp();
    await app.ready();
    const messages: { type: string; games?: Game[] }[] = [];
    const ws = await app.injectWS(
      '/api/events',
      { headers: { host: 'localhost:7420' } },
      { onInit: (socket) => socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()))) },
    );
    await waitFor(() => (messages.some((m) => m.type === 'LibraryChanged') ? true : undefined), 2_000, 'snapshot');
    expect(messages[0]?.games?.every((g) => !g.downloaded)).toBe(true);
    await makeGame(gameDir, 'bravo', { version: '20240101' });
    const update = await waitFor(
      () => messages.find((m) => m.type === 'LibraryChanged' && m.games?.find((g) => g.id === 'bravo')?.downloaded),
      3_000,
      'bravo downloaded over the WebSocket',
    );
    expect(update.games?.find((g) => g.id === 'bravo')?.version).toBe('20240101');
    expect(messages.some((m) => m.type === 'LocalLibraryChanged')).toBe(true);
    ws.terminate();
  });
});
