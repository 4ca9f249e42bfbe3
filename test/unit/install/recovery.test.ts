// Startup recovery on temp folders. First every checkpoint of every
// transaction: the operation is frozen there for good (as if the process had
// died), a new runtime starts on the same folders, and the game must be in
// exactly its old or its new state — the one the recovery rule names — with no
// reserved folder and no intent left, and decoys Lanspread does not own
// untouched. Then hand-made states: leftovers without intents, foreign and
// look-alike folders, corrupt intents, intents in another game dir, and a
// recovery that cannot finish.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../server/runtime/logger.js';
import { OperationRegistry } from '../../../server/runtime/operations.js';
import { CHECKPOINTS, type Checkpoint } from '../../../server/runtime/install/install-checkpoints.js';
import { InstallService } from '../../../server/runtime/install/install-service.js';
import { intentPath, writeIntent, type IntentKind } from '../../../server/runtime/install/intent-journal.js';
import { createOwnedDir, OWNED_MARKER } from '../../../server/runtime/install/owned-dir.js';
import { recoverAll } from '../../../server/runtime/install/recovery.js';
import { StreamAttempt } from '../../../server/runtime/stream-install/stream-transaction.js';
import type { ExtractOptions, ExtractResult, Unpacker } from '../../../server/runtime/extract/unpacker.js';
import { AT_CRASH, footprint, recoveryOutcome } from '../../helpers/crash-table.js';
import { startTestApp } from '../../helpers/runtime.js';
import { exists, makeGame, tempDir, tree } from '../../helpers/temp-dir.js';

// ------------------------------------------------------------ test kit

type Tree = Record<string, string>;

async function writeTree(dir: string, files: Tree): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    if (rel.endsWith('/')) {
      await fs.mkdir(path.join(dir, rel), { recursive: true });
      continue;
    }
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
}

/** Writes NEW file by file; with `dieAfter`, stops for good after that many files (a killed process). */
class ScriptedUnpacker implements Unpacker {
  constructor(private readonly dieAfter?: number) {}
  async extract(_archives: string[], dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
    const entries = Object.entries(NEW);
    const total = entries.reduce((n, [, c]) => n + c.length, 0);
    let done = 0;
    opts.onProgress?.({ bytesDone: 0, bytesTotal: total });
    for (const [i, [rel, content]] of entries.entries()) {
      if (i === this.dieAfter) await new Promise(() => undefined);
      await fs.mkdir(path.dirname(path.join(dest, rel)), { recursive: true });
      await fs.writeFile(path.join(dest, rel), content);
      done += content.length;
      opts.onProgress?.({ bytesDone: done, bytesTotal: total });
    }
    return { files: entries.length, bytes: total };
  }
}

const NEW: Tree = { 'game.exe': 'new binary', 'data/level1.map': 'level one', 'data/level2.map': 'level two v2' };
const NEW_TREE: Tree = { 'data/': '', ...NEW };
const OLD_TREE: Tree = { 'data/': '', 'game.exe': 'old binary', 'data/level1.map': 'old level one', 'old-only.cfg': 'gone after update' };
const PAYLOAD: Tree = { 'alpha.eti': 'archive', 'notes/readme.txt': 'user notes', 'version.ini': '20240101\n' };

/** Decoys at every reserved name of another game, none made by Lanspread. */
async function plantDecoys(gameDir: string): Promise<Tree> {
  const root = await makeGame(gameDir, 'charlie', { version: '1', files: { 'charlie.eti': 'c' } });
  await writeTree(root, {
    'local/mine.txt': 'installed by hand',
    '.local.installing/user.txt': 'not ours',
    '.local.backup/': '',
    '.local.backup/.lanspread_owned': 'a file with the marker name but not its content',
    '.local.backup/keep.txt': 'keep',
  });
  await fs.writeFile(path.join(root, '.local.removing'), 'a file at a reserved name');
  await writeTree(gameDir, { '.lanspread-removing-charlie/charlie/x.txt': 'not ours either' });
  return tree(gameDir).then((all) =>
    Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('charlie') || k.startsWith('.lanspread-removing-charlie'))),
  );
}

async function decoysOf(gameDir: string): Promise<Tree> {
  const all = await tree(gameDir);
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('charlie') || k.startsWith('.lanspread-removing-charlie')));
}

/** Which of the game's transaction paths exist (parked and staged trees included). */

// ------------------------------------------------------------ every checkpoint

const CASES = (Object.keys(CHECKPOINTS) as IntentKind[]).flatMap((kind) =>
  CHECKPOINTS[kind].map((cp) => [kind, cp as Checkpoint] as const),
);

describe('recovery after a crash at every checkpoint', () => {
  it('covers every checkpoint', () => {
    for (const [kind, cp] of CASES) expect(AT_CRASH[kind][cp], `${kind}:${cp}`).toBeDefined();
  });

  it.each(CASES)('%s at %s', async (kind, cp) => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const root = await makeGame(gameDir, 'alpha', { files: PAYLOAD });
    if (kind === 'update' || kind === 'uninstall') await writeTree(path.join(root, 'local'), OLD_TREE);
    const decoys = await plantDecoys(gameDir);

    let reached!: () => void;
    const crashed = new Promise<void>((resolve) => (reached = resolve));
    const dying = new InstallService({
      operations: new OperationRegistry({ onBegin: () => async () => undefined, onChange: () => undefined }),
      stateDir,
      gameDir: () => gameDir,
      unpacker: new ScriptedUnpacker(cp === 'extracting:mid' ? 1 : undefined),
      emit: () => undefined,
      setLastError: () => undefined,
      logger: silentLogger,
      checkpoint: (k, c) => {
        if (k !== kind || c !== cp) return;
        reached();
        return new Promise(() => undefined); // the process is gone: nothing after this runs
      },
    });
    if (kind === 'uninstall') await dying.uninstall('alpha');
    else if (kind === 'remove') await dying.removeDownloaded('alpha');
    else await dying.install('alpha');
    await crashed;

    expect(await footprint(gameDir, 'alpha')).toEqual(AT_CRASH[kind][cp]);
    expect(await exists(intentPath(stateDir, 'alpha'))).toBe(true);
    if (cp === 'extracting:mid') expect(await tree(path.join(root, '.local.installing', 'local'))).toEqual({ 'game.exe': 'new binary' });

    const { runtime } = await startTestApp({ gameDir, stateDir, unpacker: new ScriptedUnpacker() });
    const expected = recoveryOutcome(kind, cp);
    const game = runtime.game('alpha');
    if (kind === 'remove') {
      expect(await footprint(gameDir, 'alpha')).toEqual(expected === 'new' ? [] : ['G']);
      expect(game.downloaded).toBe(expected === 'old');
    } else {
      const installedAfter = { install: expected === 'new', update: true, uninstall: expected === 'old' }[kind];
      expect(await footprint(gameDir, 'alpha')).toEqual(installedAfter ? ['G', 'G/local'] : ['G']);
      if (installedAfter) {
        const want = kind === 'uninstall' || (kind === 'update' && expected === 'old') ? OLD_TREE : NEW_TREE;
        expect(await tree(path.join(root, 'local'))).toEqual(want);
      }
      const payload = Object.fromEntries(Object.entries(await tree(root)).filter(([k]) => !k.startsWith('local/')));
      expect(payload).toEqual({ 'alpha.eti': 'archive', 'notes/': '', 'notes/readme.txt': 'user notes', 'version.ini': '20240101\n' });
      expect(game).toMatchObject({ installed: installedAfter, downloaded: true, lastError: null, operation: null });
    }
    expect(await exists(intentPath(stateDir, 'alpha'))).toBe(false);
    expect(await decoysOf(gameDir)).toEqual(decoys);
  });
});

// ------------------------------------------------------------ hand-made states

function capturingLogger() {
  const lines: { msg: string; path?: string; why?: string; level: number }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

async function owned(dir: string, content: Tree = {}): Promise<void> {
  await createOwnedDir(dir, 'test');
  await writeTree(dir, content);
}

describe('recovery of hand-made states', () => {
  it('removes owned leftovers without an intent, restores a parked install, and leaves foreign ones alone with a log line', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    // alpha: interrupted update after the old install was parked, no intent (state dir lost)
    const alpha = await makeGame(gameDir, 'alpha', { version: '1', files: { 'alpha.eti': 'a' } });
    await owned(path.join(alpha, '.local.installing'), { 'local/game.exe': 'half new' });
    await owned(path.join(alpha, '.local.backup'), { 'local/game.exe': 'old binary' });
    // bravo: an owned backup beside a complete local/, an owned removal folder
    const bravo = await makeGame(gameDir, 'bravo', { version: '1', files: { 'bravo.eti': 'b', 'local/game.exe': 'new binary' } });
    await owned(path.join(bravo, '.local.backup'), { 'local/game.exe': 'old binary' });
    await owned(path.join(bravo, '.local.removing'), { 'local/x': 'uninstalled' });
    // a removed game still in the trash, its root gone
    await owned(path.join(gameDir, '.lanspread-removing-delta'), { 'delta/version.ini': '1' });
    // charlie: foreign folders at reserved names, an unmarked empty staging, a symlinked one with a marker behind it
    const charlie = await makeGame(gameDir, 'charlie', { version: '1' });
    await writeTree(charlie, { '.local.backup/keep.txt': 'mine', '.local.removing/': '' });
    const outside = await tempDir();
    await owned(path.join(outside, 'target'), { 'precious.txt': 'keep' });
    await fs.symlink(path.join(outside, 'target'), path.join(charlie, '.local.installing'));
    await writeTree(gameDir, { 'echo/.local.installing/.lanspread_owned': 'wrong content', 'echo/.local.installing/x': 'keep' });
    const charlieBefore = await tree(charlie);
    const echoBefore = await tree(path.join(gameDir, 'echo'));

    const { logger, lines } = capturingLogger();
    const report = await recoverAll({ stateDir, gameDir, logger });

    expect(await tree(alpha)).toEqual({ 'alpha.eti': 'a', 'version.ini': '1\n', 'local/': '', 'local/game.exe': 'old binary' });
    expect(await tree(bravo)).toEqual({ 'bravo.eti': 'b', 'version.ini': '1\n', 'local/': '', 'local/game.exe': 'new binary' });
    expect(await exists(path.join(gameDir, '.lanspread-removing-delta'))).toBe(false);
    expect(await tree(charlie)).toEqual(charlieBefore);
    expect(await tree(path.join(gameDir, 'echo'))).toEqual(echoBefore);
    expect(await tree(path.join(outside, 'target'))).toEqual({ [OWNED_MARKER]: expect.any(String), 'precious.txt': 'keep' });

    const leftAlone = report.leftAlone.map((l) => path.relative(gameDir, l.path)).sort();
    expect(leftAlone).toEqual(['charlie/.local.backup', 'charlie/.local.installing', 'charlie/.local.removing', 'echo/.local.installing']);
    const logged = lines.filter((l) => l.msg === 'reserved folder left alone').map((l) => path.relative(gameDir, l.path!));
    expect(logged.sort()).toEqual(leftAlone);
    expect(report.games).toEqual([]);
  });

  it('an intent proves an unmarked empty staging (a crash right after mkdir) but never a foreign full one', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const alpha = await makeGame(gameDir, 'alpha', { version: '1' });
    await fs.mkdir(path.join(alpha, '.local.installing'));
    await fs.writeFile(path.join(alpha, '.local.installing', `.${OWNED_MARKER}.0123abcd.tmp`), 'lanspr');
    const bravo = await makeGame(gameDir, 'bravo', { version: '1' });
    await writeTree(bravo, { '.local.installing/user.txt': 'mine' });
    for (const id of ['alpha', 'bravo']) {
      await writeIntent(stateDir, { version: 1, id, kind: 'install', phase: 'extracting', gameDir, startedAt: new Date().toISOString() });
    }
    const report = await recoverAll({ stateDir, gameDir, logger: silentLogger });
    expect(await tree(alpha)).toEqual({ 'version.ini': '1\n' });
    expect(await tree(bravo)).toEqual({ 'version.ini': '1\n', '.local.installing/': '', '.local.installing/user.txt': 'mine' });
    expect(report.games.map((g) => [g.id, g.outcome])).toEqual([
      ['alpha', 'old'],
      ['bravo', 'old'],
    ]);
    expect(await exists(intentPath(stateDir, 'alpha'))).toBe(false);
    expect(await exists(intentPath(stateDir, 'bravo'))).toBe(false);
  });

  it('removes the game folder a crashed streamed install created, only when the intent says so and it is empty', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    // each crashed right after making its staging: alpha and bravo made their folder, charlie's existed
    const roots: Record<string, string> = {};
    for (const id of ['alpha', 'bravo', 'charlie']) {
      roots[id] = path.join(gameDir, id);
      await fs.mkdir(roots[id]);
      await owned(path.join(roots[id], '.local.installing'), { 'local/game.exe': 'half' });
      const intent = { version: 1 as const, id, kind: 'install' as const, phase: 'extracting' as const, gameDir, startedAt: 'x' };
      await writeIntent(stateDir, id === 'charlie' ? intent : { ...intent, createdRoot: true });
    }
    await fs.writeFile(path.join(roots.bravo!, 'notes.txt'), 'the user put this here since');
    const report = await recoverAll({ stateDir, gameDir, logger: silentLogger });
    expect(report.games.map((g) => [g.id, g.outcome])).toEqual([
      ['alpha', 'old'],
      ['bravo', 'old'],
      ['charlie', 'old'],
    ]);
    expect(await exists(roots.alpha!)).toBe(false);
    expect(await tree(roots.bravo!)).toEqual({ 'notes.txt': 'the user put this here since' });
    expect(await tree(roots.charlie!)).toEqual({});
  });

  it('a streamed install that died after opening: recovery removes the folder it made, keeps one that was there', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    await fs.mkdir(path.join(gameDir, 'bravo'));
    for (const id of ['alpha', 'bravo']) {
      const attempt = new StreamAttempt({ stateDir, gameDir, id, logger: silentLogger });
      await attempt.open();
      await fs.writeFile(path.join(attempt.destDir, 'game.exe'), 'half'); // then the process dies
    }
    const report = await recoverAll({ stateDir, gameDir, logger: silentLogger });
    expect(report.games.map((g) => [g.id, g.outcome])).toEqual([
      ['alpha', 'old'],
      ['bravo', 'old'],
    ]);
    expect(await fs.readdir(gameDir)).toEqual(['bravo']);
    expect(await tree(path.join(gameDir, 'bravo'))).toEqual({});
  });

  it('drops a corrupt intent and settles an intent in a former game dir there', async () => {
    const oldDir = await tempDir();
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const old = await makeGame(oldDir, 'alpha', { version: '1' });
    await owned(path.join(old, '.local.backup'), { 'local/game.exe': 'old binary' });
    await owned(path.join(old, '.local.installing'), { 'local/game.exe': 'new binary' });
    await writeIntent(stateDir, { version: 1, id: 'alpha', kind: 'update', phase: 'promoting', gameDir: oldDir, startedAt: 'x' });
    const current = await makeGame(gameDir, 'alpha', { version: '2', files: { 'local/game.exe': 'other install' } });
    await fs.mkdir(path.join(stateDir, 'games', 'bravo'), { recursive: true });
    await fs.writeFile(intentPath(stateDir, 'bravo'), '{"version":1,"id":"bravo","kind":"install","phase":"bogus"');

    const report = await recoverAll({ stateDir, gameDir, logger: silentLogger });
    expect(await tree(old)).toEqual({ 'version.ini': '1\n', 'local/': '', 'local/game.exe': 'new binary' });
    expect(await tree(current)).toEqual({ 'version.ini': '2\n', 'local/': '', 'local/game.exe': 'other install' });
    expect(report.games).toEqual([{ id: 'alpha', kind: 'update', phase: 'promoting', outcome: 'new' }]);
    expect(await exists(intentPath(stateDir, 'bravo'))).toBe(false);
  });

  it('a recovery that cannot finish keeps its intent, shows recovery_failed and blocks the game until it can', async () => {
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const root = await makeGame(gameDir, 'alpha', { version: '1', files: { 'alpha.eti': 'a' } });
    await writeIntent(stateDir, { version: 1, id: 'alpha', kind: 'remove', phase: 'moving', gameDir, startedAt: 'x' });
    await writeTree(gameDir, { '.lanspread-removing-alpha/user.txt': 'someone else’s' }); // the removal folder is taken

    const { runtime, app } = await startTestApp({ gameDir, stateDir, unpacker: new ScriptedUnpacker() });
    expect(runtime.game('alpha').lastError).toMatchObject({ code: 'recovery_failed' });
    expect(await exists(intentPath(stateDir, 'alpha'))).toBe(true);
    expect(await tree(root)).toEqual({ 'alpha.eti': 'a', 'version.ini': '1\n' });
    const blocked = await app.inject({ method: 'POST', url: '/api/games/alpha/install' });
    expect([blocked.statusCode, blocked.json().error.code]).toEqual([409, 'recovery_failed']);
    expect(await exists(path.join(root, 'local'))).toBe(false);

    await fs.rm(path.join(gameDir, '.lanspread-removing-alpha'), { recursive: true });
    const res = await app.inject({ method: 'POST', url: '/api/games/alpha/install' });
    expect([res.statusCode, res.json().error?.code]).toEqual([409, 'not_downloaded']); // the removal was finished first
    expect(await exists(root)).toBe(false);
    expect(await exists(intentPath(stateDir, 'alpha'))).toBe(false);
  });
});
