import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { LocalGame } from '../../../shared/events.js';
import { Catalog, type CatalogEntry } from '../../../server/runtime/library/catalog.js';
import { Library, type LibraryOptions } from '../../../server/runtime/library/library.js';
import { LibraryIndex } from '../../../server/runtime/library/library-index.js';
import { silentLogger } from '../../../server/runtime/logger.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';

const entry = (id: string): CatalogEntry => ({ id, name: id, description: '', size: 1, eti_version: '1' });
const catalog = new Catalog(['alpha', 'bravo', 'charlie'].map(entry));

async function startLibrary(opts: Partial<LibraryOptions> & { gameDir: string; stateDir: string }) {
  const changes: LocalGame[][] = [];
  const library = new Library({
    catalog,
    logger: silentLogger,
    onChange: (g) => changes.push(g),
    debounceMs: 20,
    missingPollMs: 100,
    ...opts,
  });
  await library.start();
  onTestFinished(() => library.stop());
  return { library, changes };
}

describe('Library', () => {
  it('lists only catalog ids that are valid folder names', async () => {
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha', { version: '1' });
    await makeGame(gameDir, 'unknown', { version: '1' });
    await makeGame(gameDir, 'Bravo', { version: '1' });
    await fs.writeFile(path.join(gameDir, 'charlie'), 'a file, not a game root');
    const { library } = await startLibrary({ gameDir, stateDir: await tempDir(), watch: false });
    expect(library.games().map((g) => g.id)).toEqual(['alpha']);
  });

  it('sees a game folder appear and go away within a couple of seconds (watcher)', async () => {
    const gameDir = await tempDir();
    const { library } = await startLibrary({ gameDir, stateDir: await tempDir() });
    expect(library.get('bravo')).toBeUndefined();
    await makeGame(gameDir, 'bravo', { version: '20240101' });
    await waitFor(() => (library.get('bravo')?.downloaded ? true : undefined), 2_000, 'bravo downloaded');
    await fs.mkdir(path.join(gameDir, 'bravo', 'local'));
    await waitFor(() => (library.get('bravo')?.installed ? true : undefined), 2_000, 'bravo installed');
    await fs.rm(path.join(gameDir, 'bravo', 'version.ini'));
    await waitFor(() => (library.get('bravo')?.downloaded === false ? true : undefined), 2_000, 'bravo not downloaded');
    await fs.rm(path.join(gameDir, 'bravo'), { recursive: true });
    await waitFor(() => (library.get('bravo') === undefined ? true : undefined), 2_000, 'bravo gone');
  });

  it('holds back rescans of a game during an operation and runs one when it ends', async () => {
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha');
    const { library, changes } = await startLibrary({ gameDir, stateDir: await tempDir() });
    const release = library.hold('alpha');
    await fs.writeFile(path.join(gameDir, 'alpha', 'version.ini'), '5');
    await library.rescanGame('alpha');
    await library.fullScan();
    await new Promise((r) => setTimeout(r, 300)); // watcher events come and are held back
    expect(library.get('alpha')?.downloaded).toBe(false);
    const before = changes.length;
    await release();
    expect(library.get('alpha')).toMatchObject({ downloaded: true, version: '5' });
    expect(changes.length).toBe(before + 1);
  });

  it('survives the game dir disappearing and picks it up again when it returns', async () => {
    const parent = await tempDir();
    const gameDir = path.join(parent, 'games');
    await fs.mkdir(gameDir);
    await makeGame(gameDir, 'alpha', { version: '1' });
    const { library } = await startLibrary({ gameDir, stateDir: await tempDir() });
    expect(library.games()).toHaveLength(1);
    await fs.rm(gameDir, { recursive: true });
    await library.fullScan();
    expect(library.games()).toEqual([]);
    await fs.mkdir(gameDir);
    await makeGame(gameDir, 'charlie', { version: '3' });
    await waitFor(() => (library.get('charlie')?.downloaded ? true : undefined), 3_000, 'charlie after the game dir came back');
    // and the watcher is live again on the new folder
    await makeGame(gameDir, 'bravo', { version: '2' });
    await waitFor(() => (library.get('bravo')?.downloaded ? true : undefined), 2_000, 'bravo seen by the new watcher');
  });

  it('keeps its index on disk and trusts it on the next start only for the same game dir', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const root = await makeGame(gameDir, 'alpha', { version: '1', files: { 'data/a.eti': 'aaaa' } });
    const first = await startLibrary({ gameDir, stateDir, watch: false });
    expect(first.library.get('alpha')?.size).toBe(6);
    await first.library.stop();
    const saved = await new LibraryIndex(stateDir, silentLogger).load(gameDir);
    expect(saved.get('alpha')?.game.size).toBe(6);
    // A change no folder mtime reveals is only visible without the index: proves the index was used.
    await fs.appendFile(path.join(root, 'data/a.eti'), 'bb');
    const second = await startLibrary({ gameDir, stateDir, watch: false });
    expect(second.library.get('alpha')?.size).toBe(6);
    await second.library.rescanGame('alpha');
    expect(second.library.get('alpha')?.size).toBe(8);
    expect((await new LibraryIndex(stateDir, silentLogger).load('/some/other/dir')).size).toBe(0);
  });

  it('rescans everything when the index is corrupt', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    await makeGame(gameDir, 'alpha', { version: '1' });
    await fs.writeFile(path.join(stateDir, 'library-index.json'), '{not json');
    const { library } = await startLibrary({ gameDir, stateDir, watch: false });
    expect(library.get('alpha')?.downloaded).toBe(true);
  });
});
