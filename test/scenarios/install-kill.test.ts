// Kill at every checkpoint (scenarios I1–I4 in docs/SCENARIOS.md): real
// `lanspread serve` processes (the built dist/) with the real RAR unpacker and
// real archives. Each round starts a node with LANSPREAD_TEST_PAUSE_AT naming
// one checkpoint per transaction kind, starts an install, an update, an
// uninstall and a remove through the API, waits for the four PAUSED lines,
// SIGKILLs the node, restarts it on the same folders and checks every game is
// exactly in its old or its new state (the one the recovery rule names), with
// no reserved folder and no intent left and a decoy Lanspread does not own
// untouched. Rounds run concurrently; together they cover every checkpoint.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it, type TestContext } from 'vitest';
import type { Game } from '../../shared/api.js';
import { CHECKPOINTS, type Checkpoint } from '../../server/runtime/install/install-checkpoints.js';
import { intentPath, type IntentKind } from '../../server/runtime/install/intent-journal.js';
import { openFileSource, scanRarArchive } from '../../server/runtime/extract/rar-headers.js';
import { getJson, postJson } from '../helpers/api.js';
import { AT_CRASH, footprint, recoveryOutcome } from '../helpers/crash-table.js';
import { rarFixture } from '../helpers/fixtures.js';
import { PROJECT_ROOT, startNode, type NodeProcess } from '../helpers/node-process.js';
import { exists, waitFor, writeFiles } from '../helpers/temp-dir.js';

// ------------------------------------------------------------ test kit

/** path → "size:crc32" for files, '' for folders */
type Tree = Record<string, string>;

const sig = (data: Buffer | string) => `${Buffer.byteLength(data)}:${crc32(data).toString(16)}`;

async function tree(dir: string): Promise<Tree> {
  const out: Tree = {};
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[`${r}/`] = '';
        await walk(r);
      } else if (e.isSymbolicLink()) out[r] = 'symlink';
      else out[r] = sig(await fs.readFile(path.join(dir, r)));
    }
  };
  await walk('');
  return out;
}

/** What an archive extracts to, from its own headers (sizes and CRC32s), not from an extraction. */
function archiveTree(file: string): Tree {
  const source = openFileSource(file);
  try {
    const out: Tree = {};
    for (const e of scanRarArchive(source).entries) {
      const name = e.name.replaceAll('\\', '/');
      out[e.directory ? `${name}/` : name] = e.directory ? '' : `${e.unpackedSize}:${(e.crc32 ?? 0).toString(16)}`;
    }
    return out;
  } finally {
    source.close();
  }
}

const sigs = (files: Record<string, string>): Tree => {
  const out: Tree = {};
  for (const [rel, content] of Object.entries(files)) {
    out[rel] = sig(content);
    for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) out[`${d}/`] = '';
  }
  return out;
};

const OLD_FILES = { 'game.exe': 'old binary v1', 'data/maps/one.map': 'old map', 'old-only.cfg': 'only in the old install' };
const ROOT_FILES = { 'notes.txt': 'user notes beside the game' };
const DECOY_FILES = {
  'version.ini': '1\n',
  'decoy.eti': 'not even a rar',
  'local/mine.txt': 'installed by hand',
  '.local.installing/user.txt': 'a folder with a reserved name, made by the user',
  '.local.backup/user.txt': 'likewise',
  '.local.removing/user.txt': 'likewise',
};
const SMALL_NEW = 'rar5_solid.rar';
const SMALL_INSTALL = 'rar5_multiple_files.rar';
/** expands to ~240 MB: a kill at extracting:mid really lands in the middle */
const BIG = 'rar_ppmd_lzss_conversion.rar';

const KINDS: IntentKind[] = ['install', 'update', 'uninstall', 'remove'];
const GAME: Record<IntentKind, string> = { install: 'inst', update: 'upd', uninstall: 'unin', remove: 'rem' };

const ROUNDS = Math.max(...KINDS.map((k) => CHECKPOINTS[k].length));
const roundPoints = (i: number) =>
  KINDS.flatMap((kind) => {
    const cp = CHECKPOINTS[kind][i];
    return cp ? [{ kind, cp: cp as Checkpoint }] : [];
  });

function catalogJson(): string {
  const ids = [...Object.values(GAME), 'decoy'];
  return JSON.stringify({ games: ids.map((id) => ({ id, name: id, description: '', size: 1, eti_version: '1' })) });
}

/** A temp folder removed after the test (rounds run concurrently: hooks go through the test's own context). */
async function tempDir(ctx: TestContext, prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  ctx.onTestFinished(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(ctx: TestContext, games: string, state: string, catalog: string, pauseAt?: string): Promise<NodeProcess> {
  const node = await startNode({
    games,
    state,
    catalog,
    args: ['--quic-port', '0'],
    ...(pauseAt ? { env: { LANSPREAD_TEST_PAUSE_AT: pauseAt } } : {}),
  });
  ctx.onTestFinished(() => node.stop('SIGKILL'));
  return node;
}

const gameOf = (node: NodeProcess, id: string) => getJson<Game>(node.url, `/api/games/${id}`);

// ------------------------------------------------------------ rounds

describe('kill -9 at every checkpoint, restart, recover (real processes, real archives)', () => {
  it('the built node has the install service', () => {
    const built = path.join(PROJECT_ROOT, 'dist', 'server', 'runtime', 'install', 'install-service.js');
    expect(existsSync(built), 'run "npm run build:server" first').toBe(true);
  });

  it.concurrent.for(Array.from({ length: ROUNDS }, (_, i) => i))('round %i', { timeout: 60_000 }, async (i, ctx) => {
    const { expect } = ctx;
    const points = roundPoints(i);
    const games = await tempDir(ctx, 'lanspread-kill-games-');
    const state = await tempDir(ctx, 'lanspread-kill-state-');
    const catalog = path.join(await tempDir(ctx, 'lanspread-kill-catalog-'), 'catalog.json');
    await fs.writeFile(catalog, catalogJson());

    const archiveFor = (kind: IntentKind) => {
      const cp = points.find((p) => p.kind === kind)?.cp;
      if (cp === 'extracting:mid') return BIG;
      return kind === 'update' ? SMALL_NEW : SMALL_INSTALL;
    };
    const root = (kind: IntentKind) => path.join(games, GAME[kind]);
    for (const kind of KINDS) {
      await writeFiles(root(kind), { 'version.ini': '1\n', ...ROOT_FILES });
      await fs.copyFile(rarFixture(archiveFor(kind)), path.join(root(kind), `${GAME[kind]}.eti`));
      if (kind === 'update' || kind === 'uninstall') await writeFiles(path.join(root(kind), 'local'), OLD_FILES);
    }
    await writeFiles(path.join(games, 'decoy'), DECOY_FILES);
    await writeFiles(games, { '.lanspread-removing-decoy/decoy/user.txt': 'not made by Lanspread' });
    const decoyBefore = await tree(path.join(games, 'decoy'));
    const trashDecoyBefore = await tree(path.join(games, '.lanspread-removing-decoy'));
    const rootBefore = Object.fromEntries(await Promise.all(KINDS.map(async (k) => [k, await tree(root(k))] as const))) as Record<
      IntentKind,
      Tree
    >;

    // 1. start with the pause switch, start every operation, wait until each is paused
    const first = await start(ctx, games, state, catalog, points.map((p) => `${p.kind}:${p.cp}`).join(','));
    for (const { kind } of points) {
      const res =
        kind === 'uninstall'
          ? await postJson(first.url, `/api/games/${GAME[kind]}/uninstall`)
          : kind === 'remove'
            ? await postJson(first.url, `/api/games/${GAME[kind]}/files`, {}, 'DELETE')
            : await postJson(first.url, `/api/games/${GAME[kind]}/install`);
      expect([kind, res.status]).toEqual([kind, 202]);
    }
    await waitFor(
      () => (points.every((p) => first.stderr().includes(`PAUSED ${p.kind} ${p.cp}\n`)) ? true : undefined),
      30_000,
      `PAUSED lines for ${points.map((p) => `${p.kind}:${p.cp}`).join(', ')}`,
    );
    // the operations stay where they paused: same intent phase, same folders, a moment later
    await new Promise((r) => setTimeout(r, 300));
    for (const { kind, cp } of points) {
      const intent = JSON.parse(await fs.readFile(intentPath(state, GAME[kind]), 'utf8')) as { kind: string; phase: string };
      expect(intent, `${kind}:${cp} intent at the kill`).toMatchObject({ kind, phase: cp.split(':')[0] });
      expect(await footprint(games, GAME[kind]), `${kind}:${cp} on disk at the kill`).toEqual(AT_CRASH[kind][cp]);
    }
    await first.stop('SIGKILL');
    if (points.some((p) => p.cp === 'extracting:mid')) {
      // the extraction was cut off: a partial file of the 240 MB one
      const partial = await fs
        .stat(path.join(root('install'), '.local.installing', 'local', 'ppmd_lzss_conversion_test.txt'))
        .catch(() => null);
      expect(partial, 'the big file was being written').not.toBeNull();
      expect(partial!.size).toBeGreaterThan(0);
      expect(partial!.size).toBeLessThan(241_647_978);
    }

    // 2. restart on the same folders: recovery runs before the node serves
    const second = await start(ctx, games, state, catalog);
    for (const { kind, cp } of points) {
      const want = recoveryOutcome(kind, cp);
      const what = `${kind} at ${cp} → ${want}`;
      const id = GAME[kind];
      const game = await gameOf(second, id);
      expect(await exists(intentPath(state, id)), `${what}: intent cleared`).toBe(false);
      expect(game.lastError, what).toBeNull();
      if (kind === 'remove') {
        expect(await exists(root(kind)), what).toBe(want === 'old');
        if (want === 'old') expect(await tree(root(kind)), what).toEqual(rootBefore[kind]);
        expect(game.downloaded, what).toBe(want === 'old');
        continue;
      }
      const installed = kind === 'uninstall' ? want === 'old' : kind === 'update' || want === 'new';
      expect(game.installed, what).toBe(installed);
      const outside = Object.fromEntries(Object.entries(await tree(root(kind))).filter(([k]) => !k.startsWith('local/')));
      const before = Object.fromEntries(Object.entries(rootBefore[kind]).filter(([k]) => !k.startsWith('local/')));
      expect(outside, `${what}: only the payload beside local/, no reserved folder`).toEqual(before);
      if (!installed) {
        expect(await exists(path.join(root(kind), 'local')), what).toBe(false);
      } else {
        const expected = want === 'new' && kind !== 'uninstall' ? archiveTree(rarFixture(archiveFor(kind))) : sigs(OLD_FILES);
        expect(await tree(path.join(root(kind), 'local')), what).toEqual(expected);
      }
    }
    expect(await tree(path.join(games, 'decoy'))).toEqual(decoyBefore);
    expect(await tree(path.join(games, '.lanspread-removing-decoy'))).toEqual(trashDecoyBefore);
    const leftAlone = second
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"reserved folder left alone"'))
      .map((l) => path.relative(games, (JSON.parse(l) as { path: string }).path))
      .sort();
    expect(leftAlone).toEqual(['.lanspread-removing-decoy', 'decoy/.local.backup', 'decoy/.local.installing', 'decoy/.local.removing']);

    // 3. the recovered node works: (re)install the first game and get exactly the archive's tree
    if (archiveFor('install') !== BIG) {
      expect((await postJson(second.url, '/api/games/inst/install')).status).toBe(202);
      await waitFor(
        async () => {
          const g = await gameOf(second, 'inst');
          return g.installed && g.operation === null ? g : undefined;
        },
        15_000,
        'the reinstall',
      );
      expect(await tree(path.join(root('install'), 'local'))).toEqual(archiveTree(rarFixture(SMALL_INSTALL)));
      expect(await exists(path.join(root('install'), '.local.installing'))).toBe(false);
    }
  });
});
