// Install, update, uninstall and remove-downloaded through a real PeerRuntime
// (no network) and its API, with a scripted unpacker: exact results on disk,
// events, progress, lastError, every refusal with its status, rollback after
// failures at each step, and shutdown in the middle of an extraction.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActiveOperation, Game } from '../../../shared/api.js';
import type { PeerEvent } from '../../../shared/events.js';
import { silentLogger } from '../../../server/runtime/logger.js';
import { OperationRegistry } from '../../../server/runtime/operations.js';
import type { CheckpointHook } from '../../../server/runtime/install/install-checkpoints.js';
import { InstallService } from '../../../server/runtime/install/install-service.js';
import { intentPath } from '../../../server/runtime/install/intent-journal.js';
import { ExtractError, type ExtractOptions, type ExtractResult, type Unpacker } from '../../../server/runtime/extract/unpacker.js';
import { startTestApp } from '../../helpers/runtime.js';
import { exists, makeGame, tempDir, tree, waitFor } from '../../helpers/temp-dir.js';

// ------------------------------------------------------------ test kit

type Tree = Record<string, string>;

interface Script {
  /** throw this after writing `failAfter` files */
  fail?: { after: number; error: ExtractError };
  /** wait for the abort signal after writing this many files */
  hangAfter?: number;
  /** run after writing this many files (to change the world mid-extraction) */
  during?: { after: number; run: () => Promise<void> };
}

/** Writes a fixed tree as if extracted from the archives, with progress. */
class ScriptedUnpacker implements Unpacker {
  readonly calls: { archives: string[]; dest: string }[] = [];
  constructor(
    private files: Tree,
    public script: Script = {},
  ) {}

  async extract(archives: string[], dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
    this.calls.push({ archives, dest });
    const entries = Object.entries(this.files);
    const total = entries.reduce((n, [, c]) => n + Buffer.byteLength(c), 0);
    let done = 0;
    opts.onProgress?.({ bytesDone: 0, bytesTotal: total });
    for (let i = 0; i <= entries.length; i++) {
      if (this.script.fail?.after === i) throw this.script.fail.error;
      if (this.script.during?.after === i) await this.script.during.run();
      if (this.script.hangAfter === i) {
        await new Promise((_, reject) => {
          const stop = () => reject(new ExtractError('extract_aborted', 'aborted'));
          if (opts.signal?.aborted) stop();
          opts.signal?.addEventListener('abort', stop);
        });
      }
      const entry = entries[i];
      if (!entry) break;
      const [rel, content] = entry;
      await fs.mkdir(path.dirname(path.join(dest, rel)), { recursive: true });
      await fs.writeFile(path.join(dest, rel), content);
      done += Buffer.byteLength(content);
      opts.onProgress?.({ bytesDone: done, bytesTotal: total });
    }
    return { files: entries.length, bytes: total };
  }
}

const NEW: Tree = { 'game.exe': 'new binary', 'data/level1.map': 'level one', 'data/level2.map': 'level two v2' };
const NEW_TREE: Tree = { 'data/': '', ...NEW };
const OLD: Tree = { 'game.exe': 'old binary', 'data/level1.map': 'old level one', 'old-only.cfg': 'gone after update' };
const OLD_TREE: Tree = { 'data/': '', ...OLD };

async function setup(opts: { installed?: boolean; files?: Tree; script?: Script } = {}) {
  const gameDir = await tempDir();
  const root = await makeGame(gameDir, 'alpha', { version: '20240101', files: opts.files ?? { 'alpha.eti': 'archive' } });
  if (opts.installed) {
    for (const [rel, content] of Object.entries(OLD)) {
      await fs.mkdir(path.dirname(path.join(root, 'local', rel)), { recursive: true });
      await fs.writeFile(path.join(root, 'local', rel), content);
    }
  }
  const unpacker = new ScriptedUnpacker(NEW, opts.script);
  const started = await startTestApp({ gameDir, unpacker });
  const events: PeerEvent[] = [];
  started.runtime.subscribe((e) => events.push(e));
  const post = async (action: 'install' | 'uninstall' | 'files', id = 'alpha') => {
    const res = await started.app.inject({
      method: action === 'files' ? 'DELETE' : 'POST',
      url: `/api/games/${id}/${action === 'files' ? 'files' : action}`,
    });
    return { status: res.statusCode, body: res.json() as Game & { error: { code: string; message: string } } };
  };
  const settled = async () => {
    await waitFor(() => (started.runtime.listOperations().length === 0 ? true : undefined), 10_000, 'the operation to end');
    await started.runtime.rescan();
    return started.runtime.game('alpha');
  };
  return { ...started, root, unpacker, events, post, settled };
}

const RESERVED = ['.local.installing', '.local.backup', '.local.removing'];

async function expectNoLeftovers(root: string, stateDir: string) {
  for (const name of RESERVED) expect(await exists(path.join(root, name)), name).toBe(false);
  expect(await exists(path.join(path.dirname(root), `.lanspread-removing-${path.basename(root)}`))).toBe(false);
  expect(await exists(intentPath(stateDir, path.basename(root)))).toBe(false);
}

// ------------------------------------------------------------ tests

describe('install', () => {
  it('extracts every archive, in path order, into local/ and reports phases, progress and events', async () => {
    const t = await setup({
      files: {
        'alpha.eti': 'a',
        'b/disc2.ETI': 'b',
        'a-extra.rar': 'c',
        'notes.txt': 'not an archive',
        '.hidden/skip.eti': 'dot folder',
        '.local.installing.old/skip.eti': 'reserved-looking dot folder',
      },
    });
    await fs.mkdir(path.join(t.root, 'sub', '.git'), { recursive: true });
    await fs.writeFile(path.join(t.root, 'sub', '.git', 'x.rar'), 'inside a dot folder');
    await fs.symlink(path.join(t.root, 'alpha.eti'), path.join(t.root, 'link.eti'));
    const ops: ActiveOperation[][] = [];
    t.runtime.subscribe((e) => e.type === 'OperationsChanged' && ops.push(e.operations));

    const res = await t.post('install');
    expect(res.status).toBe(202);
    expect(res.body.id).toBe('alpha');
    const game = await t.settled();

    expect(t.unpacker.calls.map((c) => c.archives.map((a) => path.relative(t.root, a)))).toEqual([
      ['a-extra.rar', 'alpha.eti', 'b/disc2.ETI'],
    ]);
    expect(await tree(path.join(t.root, 'local'))).toEqual(NEW_TREE);
    expect(game).toMatchObject({ installed: true, downloaded: true, operation: null, lastError: null });
    await expectNoLeftovers(t.root, t.stateDir);
    expect(await fs.readFile(path.join(t.root, 'notes.txt'), 'utf8')).toBe('not an archive');

    const types = t.events.filter((e) => e.type.startsWith('Install')).map((e) => e.type);
    expect(types).toEqual(['InstallGameBegin', 'InstallGameFinished']);
    const alphaOps = ops.flat().filter((o) => o.id === 'alpha');
    expect(alphaOps.every((o) => o.kind === 'install')).toBe(true);
    expect([...new Set(alphaOps.map((o) => o.phase))]).toEqual(['starting', 'extracting', 'promoting', 'cleaning']);
    const total = Object.values(NEW).reduce((n, c) => n + c.length, 0);
    expect(alphaOps.some((o) => o.phase === 'extracting' && o.bytesTotal === total && o.bytesDone === total)).toBe(true);
    expect(alphaOps.some((o) => o.phase === 'extracting' && o.bytesDone > 0 && o.bytesDone < total)).toBe(true);
  });

  it('updates an installed game: local/ is exactly the new tree, nothing of the old one is left', async () => {
    const t = await setup({ installed: true });
    expect((await t.post('install')).status).toBe(202);
    const game = await t.settled();
    expect(await tree(path.join(t.root, 'local'))).toEqual(NEW_TREE);
    expect(game).toMatchObject({ installed: true, lastError: null });
    await expectNoLeftovers(t.root, t.stateDir);
  });

  it('a damaged archive: no local/, staging gone, lastError and a failed event; a later success clears lastError', async () => {
    const error = new ExtractError('archive_damaged', 'damaged archive: header checksum mismatch');
    const t = await setup({ script: { fail: { after: 2, error } } });
    expect((await t.post('install')).status).toBe(202);
    const game = await t.settled();
    expect(await exists(path.join(t.root, 'local'))).toBe(false);
    await expectNoLeftovers(t.root, t.stateDir);
    expect(game.installed).toBe(false);
    expect(game.lastError).toEqual({ code: 'archive_damaged', message: 'damaged archive: header checksum mismatch' });
    expect(t.events.filter((e) => e.type === 'InstallGameFailed')).toEqual([
      { type: 'InstallGameFailed', id: 'alpha', error: { code: 'archive_damaged', message: 'damaged archive: header checksum mismatch' } },
    ]);
    expect(t.events.some((e) => e.type === 'InstallGameFinished')).toBe(false);

    t.unpacker.script = {};
    expect((await t.post('install')).status).toBe(202);
    const again = await t.settled();
    expect(again).toMatchObject({ installed: true, lastError: null });
    expect(await tree(path.join(t.root, 'local'))).toEqual(NEW_TREE);
  });

  it.each([
    ['archive_encrypted', 0],
    ['archive_unsafe_entry', 0],
    ['extract_no_space', 2],
  ] as const)('an update failing with %s keeps the old install exactly', async (code, after) => {
    const t = await setup({ installed: true, script: { fail: { after, error: new ExtractError(code, `failed: ${code}`) } } });
    expect((await t.post('install')).status).toBe(202);
    const game = await t.settled();
    expect(await tree(path.join(t.root, 'local'))).toEqual(OLD_TREE);
    expect(game).toMatchObject({ installed: true, lastError: { code, message: `failed: ${code}` } });
    await expectNoLeftovers(t.root, t.stateDir);
  });

  it('an update whose backup folder is taken mid-way rolls back and leaves that folder alone', async () => {
    const t = await setup({ installed: true });
    t.unpacker.script = {
      during: {
        after: 1,
        run: async () => {
          await fs.mkdir(path.join(t.root, '.local.backup'));
          await fs.writeFile(path.join(t.root, '.local.backup', 'user.txt'), 'mine');
        },
      },
    };
    expect((await t.post('install')).status).toBe(202);
    const game = await t.settled();
    expect(await tree(path.join(t.root, 'local'))).toEqual(OLD_TREE);
    expect(await tree(path.join(t.root, '.local.backup'))).toEqual({ 'user.txt': 'mine' });
    expect(await exists(path.join(t.root, '.local.installing'))).toBe(false);
    expect(game.lastError?.code).toBe('reserved_path_in_use');
    expect(await exists(intentPath(t.stateDir, 'alpha'))).toBe(false);
  });

  it('a fresh install whose local/ appears mid-way is not promoted over it', async () => {
    const t = await setup();
    t.unpacker.script = {
      during: { after: 1, run: () => fs.mkdir(path.join(t.root, 'local', 'mine'), { recursive: true }).then(() => undefined) },
    };
    expect((await t.post('install')).status).toBe(202);
    const game = await t.settled();
    expect(await tree(path.join(t.root, 'local'))).toEqual({ 'mine/': '' });
    expect(await exists(path.join(t.root, '.local.installing'))).toBe(false);
    expect(game.lastError?.code).toBe('reserved_path_in_use');
  });

  it('a shutdown in the middle of an extraction rolls the staging back', async () => {
    const t = await setup({ installed: true, script: { hangAfter: 1 } });
    expect((await t.post('install')).status).toBe(202);
    await waitFor(
      () => exists(path.join(t.root, '.local.installing', 'local', 'game.exe')).then((x) => x || undefined),
      5000,
      'extraction',
    );
    await t.runtime.close();
    expect(await tree(path.join(t.root, 'local'))).toEqual(OLD_TREE);
    await expectNoLeftovers(t.root, t.stateDir);
  });

  it('refuses with clear codes and statuses, touching nothing', async () => {
    const t = await setup({ script: { hangAfter: 0 } });
    await makeGame(t.gameDir, 'bravo', { files: { 'bravo.eti': 'x' } }); // no version.ini
    await makeGame(t.gameDir, 'charlie', { version: '1', files: { 'readme.txt': 'no archive' } });
    await t.runtime.rescan();

    const notDownloaded = await t.post('install', 'bravo');
    expect([notDownloaded.status, notDownloaded.body.error.code]).toEqual([409, 'not_downloaded']);
    await fs.mkdir(path.join(t.gameDir, 'bravo', 'version.ini'));
    expect((await t.post('install', 'bravo')).body.error.code).toBe('not_downloaded');
    const noArchives = await t.post('install', 'charlie');
    expect([noArchives.status, noArchives.body.error.code]).toEqual([409, 'no_archives']);
    expect((await t.post('install', 'zulu')).status).toBe(404);
    expect((await t.post('install', 'Bad.Id')).status).toBe(400);
    const notInstalled = await t.post('uninstall');
    expect([notInstalled.status, notInstalled.body.error.code]).toEqual([409, 'not_installed']);

    // a staging folder that Lanspread did not make blocks the install and stays as it is
    await fs.mkdir(path.join(t.gameDir, 'charlie', '.local.installing'));
    await fs.writeFile(path.join(t.gameDir, 'charlie', '.local.installing', 'user.txt'), 'mine');
    await fs.writeFile(path.join(t.gameDir, 'charlie', 'charlie.eti'), 'archive');
    const taken = await t.post('install', 'charlie');
    expect([taken.status, taken.body.error.code]).toEqual([409, 'reserved_path_in_use']);
    expect(await tree(path.join(t.gameDir, 'charlie', '.local.installing'))).toEqual({ 'user.txt': 'mine' });

    // an operation in flight refuses every other one on that game, and keeps running
    expect((await t.post('install')).status).toBe(202);
    for (const action of ['install', 'uninstall', 'files'] as const) {
      const busy = await t.post(action);
      expect([action, busy.status, busy.body.error.code]).toEqual([action, 409, 'operation_active']);
    }
    await waitFor(() => (t.unpacker.calls.length > 0 ? true : undefined), 5000, 'the extraction to start');
    expect(t.runtime.game('alpha').operation).toMatchObject({ kind: 'install', phase: 'extracting' });
    expect(t.unpacker.calls).toHaveLength(1);
  });
});

describe('uninstall', () => {
  it('removes local/ through an owned folder and keeps the download', async () => {
    const t = await setup({ installed: true });
    const res = await t.post('uninstall');
    expect(res.status).toBe(202);
    expect(res.body.operation).toMatchObject({ kind: 'uninstall' });
    const game = await t.settled();
    expect(await tree(t.root)).toEqual({ 'alpha.eti': 'archive', 'version.ini': '20240101\n' });
    expect(game).toMatchObject({ installed: false, downloaded: true, lastError: null });
    await expectNoLeftovers(t.root, t.stateDir);
    expect(t.events.filter((e) => e.type.startsWith('Uninstall')).map((e) => e.type)).toEqual([
      'UninstallGameBegin',
      'UninstallGameFinished',
    ]);
  });

  it('refuses a local/ that is a symlink (not installed) and leaves it and its target alone', async () => {
    const t = await setup();
    const outside = await tempDir();
    await fs.writeFile(path.join(outside, 'precious.txt'), 'keep');
    await fs.symlink(outside, path.join(t.root, 'local'));
    const res = await t.post('uninstall');
    expect([res.status, res.body.error.code]).toEqual([409, 'not_installed']);
    expect(await tree(outside)).toEqual({ 'precious.txt': 'keep' });
    expect((await fs.lstat(path.join(t.root, 'local'))).isSymbolicLink()).toBe(true);
  });
});

describe('remove downloaded files', () => {
  it('deletes the game root of a downloaded, not installed game', async () => {
    const t = await setup({ files: { 'alpha.eti': 'archive', 'sub/more.eti': 'more' } });
    const res = await t.post('files');
    expect(res.status).toBe(202);
    expect(res.body.operation).toMatchObject({ kind: 'remove' });
    const game = await t.settled();
    expect(await exists(t.root)).toBe(false);
    expect(game).toMatchObject({ downloaded: false, installed: false, lastError: null });
    await expectNoLeftovers(t.root, t.stateDir);
    expect(await fs.readdir(t.gameDir)).toEqual([]);
  });

  it('refuses an installed game, a missing or irregular version.ini, a symlinked root and ids outside the catalog', async () => {
    const t = await setup({ installed: true });
    const before = await tree(t.gameDir);
    const installed = await t.post('files');
    expect([installed.status, installed.body.error.code]).toEqual([409, 'installed']);

    // bravo: version.ini is a symlink to a real file; charlie: the root is a symlink to a downloaded game elsewhere
    const elsewhere = await tempDir();
    await makeGame(elsewhere, 'charlie', { version: '1', files: { 'charlie.eti': 'x' } });
    await makeGame(t.gameDir, 'bravo', { files: { 'bravo.eti': 'x', 'real.ini': '1\n' } });
    await fs.symlink(path.join(t.gameDir, 'bravo', 'real.ini'), path.join(t.gameDir, 'bravo', 'version.ini'));
    await fs.symlink(path.join(elsewhere, 'charlie'), path.join(t.gameDir, 'charlie'));
    await fs.mkdir(path.join(t.gameDir, 'zulu'));
    await fs.writeFile(path.join(t.gameDir, 'zulu', 'version.ini'), '1\n');
    const after = await tree(t.gameDir);

    const symlinkSentinel = await t.post('files', 'bravo');
    expect([symlinkSentinel.status, symlinkSentinel.body.error.code]).toEqual([409, 'not_downloaded']);
    const symlinkRoot = await t.post('files', 'charlie');
    expect([symlinkRoot.status, symlinkRoot.body.error.code]).toEqual([409, 'game_root_invalid']);
    expect((await t.post('files', 'zulu')).status).toBe(404);
    expect((await t.post('files', 'UP.PER')).status).toBe(400);

    expect(await tree(t.gameDir)).toEqual(after);
    expect(Object.keys(before).every((k) => k in after)).toBe(true);
    expect(await tree(path.join(elsewhere, 'charlie'))).toEqual({ 'charlie.eti': 'x', 'version.ini': '1\n' });
  });

  it('refuses a game root without version.ini', async () => {
    const t = await setup();
    await fs.rm(path.join(t.root, 'version.ini'));
    const res = await t.post('files');
    expect([res.status, res.body.error.code]).toEqual([409, 'not_downloaded']);
    expect(await tree(t.root)).toEqual({ 'alpha.eti': 'archive' });
  });
});

/** The service alone, with a hook at its checkpoints. */
function service(gameDir: string, stateDir: string, checkpoint?: CheckpointHook) {
  const events: PeerEvent[] = [];
  const errors = new Map<string, unknown>();
  const svc = new InstallService({
    operations: new OperationRegistry({ onBegin: () => async () => undefined, onChange: () => undefined }),
    stateDir,
    gameDir: () => gameDir,
    unpacker: new ScriptedUnpacker(NEW),
    emit: (e) => events.push(e),
    setLastError: (id, e) => errors.set(id, e),
    logger: silentLogger,
    ...(checkpoint ? { checkpoint } : {}),
  });
  return { svc, events, errors };
}

describe('failures after the old install was parked', () => {
  async function installed() {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const root = await makeGame(gameDir, 'alpha', { version: '1', files: { 'alpha.eti': 'x' } });
    for (const [rel, content] of Object.entries(OLD)) {
      await fs.mkdir(path.dirname(path.join(root, 'local', rel)), { recursive: true });
      await fs.writeFile(path.join(root, 'local', rel), content);
    }
    return { gameDir, stateDir, root };
  }

  it('a promotion that fails puts the old install back and reports install_failed', async () => {
    const { gameDir, stateDir, root } = await installed();
    const away = await tempDir();
    const { svc, errors, events } = service(gameDir, stateDir, async (kind, cp) => {
      if (kind === 'update' && cp === 'promoting') await fs.rename(path.join(root, '.local.installing', 'local'), path.join(away, 'gone'));
    });
    await svc.install('alpha');
    await svc.idle('alpha');
    expect(await tree(path.join(root, 'local'))).toEqual(OLD_TREE);
    await expectNoLeftovers(root, stateDir);
    expect(errors.get('alpha')).toEqual({ code: 'install_failed', message: expect.stringContaining('nothing to promote') });
    expect(events.map((e) => e.type)).toEqual(['InstallGameBegin', 'InstallGameFailed']);
  });

  it('a local/ that appears meanwhile deletes nothing: the intent stays and blocks the game until it is moved away', async () => {
    const { gameDir, stateDir, root } = await installed();
    let strayed = false;
    const { svc, errors } = service(gameDir, stateDir, async (kind, cp) => {
      if (kind !== 'update' || cp !== 'backing-up:done' || strayed) return;
      strayed = true;
      await fs.mkdir(path.join(root, 'local', 'stray'), { recursive: true });
    });
    await svc.install('alpha');
    await svc.idle('alpha');
    expect(errors.get('alpha')).toMatchObject({ code: 'reserved_path_in_use' });
    expect(await tree(path.join(root, '.local.backup', 'local'))).toEqual(OLD_TREE);
    expect(await tree(path.join(root, '.local.installing', 'local'))).toEqual(NEW_TREE);
    expect(await tree(path.join(root, 'local'))).toEqual({ 'stray/': '' });
    expect(await exists(intentPath(stateDir, 'alpha'))).toBe(true);

    const blocked = await svc.install('alpha').then(
      () => null,
      (err: { code: string }) => err.code,
    );
    expect(blocked).toBe('recovery_failed');
    expect(await tree(path.join(root, '.local.backup', 'local'))).toEqual(OLD_TREE);

    await fs.rm(path.join(root, 'local'), { recursive: true });
    await svc.install('alpha'); // recovery finishes the interrupted update first, then this one runs
    await svc.idle('alpha');
    expect(await tree(path.join(root, 'local'))).toEqual(NEW_TREE);
    await expectNoLeftovers(root, stateDir);
  });
});

describe('install after a download', () => {
  it('installs the game; a refusal becomes lastError and a failed event instead of an exception', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const root = await makeGame(gameDir, 'alpha', { version: '1', files: { 'alpha.eti': 'x' } });
    await makeGame(gameDir, 'bravo', { version: '1', files: { 'readme.txt': 'no archive' } });
    const { svc, events, errors } = service(gameDir, stateDir);
    await svc.installAfterDownload('alpha');
    await svc.idle('alpha');
    expect(await tree(path.join(root, 'local'))).toEqual(NEW_TREE);
    await svc.installAfterDownload('bravo');
    expect(errors.get('bravo')).toEqual({ code: 'no_archives', message: expect.stringContaining('bravo') });
    expect(events.filter((e) => e.type === 'InstallGameFailed').map((e) => (e as { id: string }).id)).toEqual(['bravo']);
  });
});
